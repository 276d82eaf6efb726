"""``opsforge harden PATTERN``: make the audit's remediable checks pass, as a deploy."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.markup import escape

from opsforge.cli.audit_cmd import audit_options, load_settings
from opsforge.cli.console import err_console
from opsforge.cli.render_deploy import DeployRenderer
from opsforge.cli.runner import execute
from opsforge.cli.targets import resolve_targets, target_options
from opsforge.connectors.pool import ConnectionPool
from opsforge.engine import HostOutcome, RunSummary
from opsforge.engine.exitcodes import EXIT_CODE_HELP, ExitCode
from opsforge.security.harden import HardenResult, HardenRun, run_harden


def _print_notes(result: HardenResult) -> bool:
    """Refusals, rollbacks and what harden does not fix; True if anything was refused."""
    refused = False
    for host, plan in sorted(result.remediations.items()):
        for line in plan.refused:
            refused = True
            err_console.print(f"[bold red]refused[/bold red] {escape(host)}: {escape(line)}")
        for line in plan.unfixable:
            err_console.print(f"[dim]not fixed[/dim] {escape(host)}: {escape(line)}")
    for host, message in sorted(result.rolled_back.items()):
        err_console.print(f"[bold red]rolled back[/bold red] {escape(host)}: {escape(message)}")
    return refused


@click.command("harden", epilog=EXIT_CODE_HELP)
@click.argument("pattern")
@target_options
@audit_options
@click.option("-C", "--check", is_flag=True, help="Show what would change; change nothing.")
@click.option("-D", "--diff", is_flag=True, help="Show file diffs and before -> after.")
def harden_command(pattern: str, **params: Any) -> None:
    """Make the hosts matching PATTERN pass every check harden can fix.

    Runs the audit, then applies the remediations as deploy operations: sshd
    settings in a drop-in (/etc/ssh/sshd_config.d/00-opsforge-hardening.conf when
    sshd_config includes that directory first, else a managed block at the top of
    sshd_config), tested with sshd -t before sshd is reloaded (only when it changed);
    modes of /etc/shadow, /etc/passwd and host keys; world-writable PATH entries;
    empty-password accounts locked; automatic updates configured. A change that
    would lock out the connecting user is refused; after an sshd change a new login
    is tried, and the change is rolled back if it fails. A second run changes nothing.

    \b
      opsforge harden web -i inventory.yml --check --diff
      opsforge harden all -i inventory.yml --become --profile ssh
    """
    targets = resolve_targets(pattern, params)
    settings = load_settings(params, targets)
    run = HardenRun(
        specs=targets.specs,
        settings=settings,
        connect=targets.connect,
        become=targets.fanout.become,
        check=params["check"],
        forks=targets.fanout.forks,
        serial=targets.fanout.serial,
        groups=targets.groups,
    )
    result = HardenResult()

    async def runner(
        pool: ConnectionPool, subscribers: Any, hook: Any
    ) -> tuple[RunSummary, dict[str, HostOutcome]]:
        return await run_harden(run, result, pool, subscribers, hook)

    text = DeployRenderer(
        [s.name for s in targets.specs], show_diff=params["diff"], check=params["check"]
    )
    code = execute(targets, None, command="harden", text=text, run=runner)
    refused = _print_notes(result)
    if refused and code == ExitCode.OK:
        code = ExitCode.FAILED
    sys.exit(code)
