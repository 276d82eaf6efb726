"""``opsforge agent install``: the agent as a service on hosts (deploy operations)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from opsforge.cli.render_deploy import DeployRenderer
from opsforge.cli.runner import execute
from opsforge.cli.targets import resolve_targets, target_options
from opsforge.connectors.pool import ConnectionPool
from opsforge.deploy.planner import DeploySettings
from opsforge.deploy.run import DeployRun, build_plan
from opsforge.engine import Plan
from opsforge.observe.agent import load_config, parse_listen
from opsforge.observe.agent.bundle import build_bundle
from opsforge.observe.agent.install import InstallSettings, agent_deploy
from opsforge.templating import TemplateEngine


@click.command("install")
@click.argument("pattern")
@target_options
@click.option(
    "--listen",
    default="0.0.0.0:9101",
    show_default=True,
    metavar="HOST:PORT",
    help="Where the installed agents serve /metrics.",
)
@click.option(
    "--agent-config",
    "agent_config",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Agent config to install as /etc/opsforge/agent.yml (validated here first).",
)
@click.option("--prefix", default="/opt/opsforge", show_default=True, help="Install directory.")
@click.option("-C", "--check", is_flag=True, help="Show what would change; change nothing.")
@click.option("-D", "--diff", is_flag=True, help="Show file diffs.")
def install_command(
    pattern: str,
    listen: str,
    agent_config: Path | None,
    prefix: str,
    check: bool,
    diff: bool,
    **params: Any,
) -> None:
    """Install the agent on the hosts PATTERN selects, as a service (systemd, or an init
    script where systemd does not run), with opsforge's deploy operations: a second run
    changes nothing. Needs root on the hosts (--become).

    \b
    Examples:
      opsforge agent install web -i inventory.yml --become
      opsforge agent install all -i inventory.yml --agent-config agent.yml --check --diff
    """
    try:
        parse_listen(listen)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--listen") from None
    if agent_config is not None:
        load_config(agent_config)  # a bad config stops here, with file:line
        config_text = agent_config.read_text(encoding="utf-8")
    else:
        config_text = "# opsforge agent config (see docs/observe.md)\n{}\n"
    targets = resolve_targets(pattern, params)
    with tempfile.TemporaryDirectory(prefix="opsforge-agent-") as tmp:
        settings = InstallSettings(
            bundle=str(build_bundle(Path(tmp))),
            config_text=config_text,
            listen=listen,
            prefix=prefix.rstrip("/") or "/",
        )
        run = DeployRun(
            deploy=agent_deploy(settings),
            settings=DeploySettings(
                base_dir=tmp,
                templates=TemplateEngine([Path(tmp)]),
                become=targets.fanout.become,
                origin="opsforge agent install",
            ),
            check=check,
            groups=targets.groups,
        )

        def build(pool: ConnectionPool) -> Plan:
            return build_plan(targets.specs, pool, run)

        text = DeployRenderer([s.name for s in targets.specs], show_diff=diff, check=check)
        code = execute(targets, build, command="agent-install", text=text)
    sys.exit(code)
