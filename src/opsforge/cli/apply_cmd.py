"""``opsforge apply DEPLOY [PATTERN]``: bring hosts to the state a deploy describes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from opsforge.cli.render_deploy import DeployRenderer
from opsforge.cli.runner import execute
from opsforge.cli.targets import Targets, resolve_targets, target_options
from opsforge.connectors.pool import ConnectionPool
from opsforge.deploy.loader import load_python_deploy
from opsforge.deploy.planner import DeploySettings
from opsforge.deploy.run import DeployRun, build_plan
from opsforge.engine import Plan
from opsforge.errors import UsageError
from opsforge.templating import TemplateEngine


def _tags(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(t.strip() for v in values for t in v.split(",") if t.strip())


def _load(path: Path, targets: Targets, params: dict[str, Any]) -> DeployRun:
    if path.suffix in (".yml", ".yaml"):
        raise UsageError(
            f"{path}: Ansible playbooks are not supported by this version yet; "
            "write a Python deploy (def deploy(host): ...)"
        )
    if path.suffix != ".py":
        raise UsageError(f"{path}: a deploy is a Python file (.py) or a playbook (.yml)")
    base = path.resolve().parent
    settings = DeploySettings(
        base_dir=str(base),
        templates=TemplateEngine([base, base / "templates"]),
        tags=_tags(params["tags"]),
        skip_tags=_tags(params["skip_tags"]),
        become=targets.fanout.become,
        origin=str(path.resolve()),
    )
    return DeployRun(
        deploy=load_python_deploy(path),
        settings=settings,
        check=params["check"],
        groups=targets.groups,
    )


@click.command("apply")
@click.argument("deploy", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("pattern", default="all")
@target_options
@click.option("-C", "--check", is_flag=True, help="Read facts and show what would change.")
@click.option("-D", "--diff", is_flag=True, help="Show file diffs and before -> after.")
@click.option("-t", "--tags", multiple=True, help="Only operations with these tags.")
@click.option("--skip-tags", multiple=True, help="Not the operations with these tags.")
def apply_command(deploy: Path, pattern: str, **params: Any) -> None:
    """Apply DEPLOY to the hosts matching PATTERN (default: all).

    Facts are read once per host, every operation is planned against them, and only
    what differs is changed, in one script per host. With --check nothing changes.

    \b
      opsforge apply deploy.py -i inventory.yml web --check --diff
      opsforge apply deploy.py -i inventory.yml --serial 25% --tags config
    """
    targets = resolve_targets(pattern, params)
    run = _load(deploy, targets, params)

    def build(pool: ConnectionPool) -> Plan:
        return build_plan(targets.specs, pool, run)

    text = DeployRenderer(
        [s.name for s in targets.specs], show_diff=params["diff"], check=params["check"]
    )
    sys.exit(execute(targets, build, command="apply", text=text))
