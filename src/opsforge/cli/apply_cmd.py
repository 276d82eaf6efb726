"""``opsforge apply DEPLOY [PATTERN]``: bring hosts to the state a deploy describes."""

from __future__ import annotations

import getpass
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


def _vault_secrets(params: dict[str, Any]) -> Any:
    from opsforge.vault import VaultSecrets

    def prompt(message: str) -> str:
        if not sys.stdin.isatty():
            raise UsageError("--ask-vault-pass needs a terminal; use --vault-password-file")
        return getpass.getpass(message)

    secrets = VaultSecrets()
    for spec in params["vault_id"]:
        secrets += VaultSecrets.from_vault_id(spec, prompt=prompt)
    for file in params["vault_password_file"]:
        secrets += VaultSecrets.from_file(file)
    if params["ask_vault_pass"]:
        secrets += VaultSecrets.from_prompt(prompt)
    return secrets + VaultSecrets.from_env()


def _ask(text: str, private: bool) -> str:
    """A ``vars_prompt`` question on the terminal (hidden input for private ones)."""
    return str(click.prompt(text, default="", show_default=False, hide_input=private))


def _run_playbook(path: Path, pattern: str, params: dict[str, Any]) -> None:
    """The playbook branch: PATTERN (default all) limits the hosts of every play."""
    from opsforge.deploy.playbook import RunOptions, parse_extra_vars, prepare, run_playbook

    secrets = _vault_secrets(params)
    extra_vars = parse_extra_vars(params["extra_vars"], secrets)
    # group_vars/ and host_vars/ beside the playbook too, winning over the inventory's
    targets = resolve_targets(pattern, params, secrets, vars_dirs=[path.absolute().parent])
    assert targets.inventory is not None
    options = RunOptions(
        check=params["check"],
        diff=params["diff"],
        tags=_tags(params["tags"]),
        skip_tags=_tags(params["skip_tags"]),
        extra_vars=extra_vars,
        secrets=secrets,
        become=targets.fanout.become,
        forks=targets.fanout.forks,
        interactive=sys.stdin.isatty(),
        prompt=_ask if sys.stdin.isatty() else None,
    )
    run = prepare(
        path,
        inventory=targets.inventory,
        specs=targets.specs,
        options=options,
        serial=targets.fanout.serial,
        max_fail_percentage=targets.max_fail_percentage,
    )

    def runner(pool: ConnectionPool, subscribers: Any, hook: Any) -> Any:
        return run_playbook(run, pool, subscribers, hook)

    text = DeployRenderer(
        [s.name for s in targets.specs], show_diff=params["diff"], check=params["check"]
    )
    sys.exit(execute(targets, None, command="apply", text=text, run=runner))


def _load(path: Path, targets: Targets, params: dict[str, Any]) -> DeployRun:
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
@click.option(
    "-e",
    "--extra-vars",
    multiple=True,
    metavar="VARS",
    help="Playbooks: variables that win over all others: k=v, JSON/YAML, or @file.",
)
@click.option(
    "--vault-password-file",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="File with the vault password (an executable prints it).",
)
@click.option("--ask-vault-pass", is_flag=True, help="Prompt for the vault password.")
@click.option("--vault-id", multiple=True, metavar="LABEL@SOURCE", help="Vault password by label.")
def apply_command(deploy: Path, pattern: str, **params: Any) -> None:
    """Apply DEPLOY (a Python deploy or an Ansible playbook) to the hosts matching PATTERN.

    For a playbook, PATTERN (default: all) limits the hosts of every play.

    Facts are read once per host, every operation is planned against them, and only
    what differs is changed, in one script per host. With --check nothing changes.

    \b
      opsforge apply deploy.py -i inventory.yml web --check --diff
      opsforge apply deploy.py -i inventory.yml --serial 25% --tags config
    """
    if deploy.suffix in (".yml", ".yaml"):
        _run_playbook(deploy, pattern, params)
    targets = resolve_targets(pattern, params, _vault_secrets(params))
    run = _load(deploy, targets, params)

    def build(pool: ConnectionPool) -> Plan:
        return build_plan(targets.specs, pool, run)

    text = DeployRenderer(
        [s.name for s in targets.specs], show_diff=params["diff"], check=params["check"]
    )
    sys.exit(execute(targets, build, command="apply", text=text))
