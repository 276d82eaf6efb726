"""``opsforge lab up N|down|status``: real sshd hosts on 127.0.0.1 to try opsforge on."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from opsforge.cli.console import err_console, out_console
from opsforge.state import state_dir
from opsforge.testing import LabInfo, lab_down, lab_status, lab_up


def _default_root() -> Path:
    return state_dir() / "lab"


root_option = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Lab directory (default: <state dir>/lab).",
)


def _show(info: LabInfo) -> None:
    out_console.print(f"[bold]{len(info.hosts)} hosts[/bold] in {escape(str(info.root))}")
    for host in info.hosts:
        out_console.print(f"  {host.name:<8} 127.0.0.1:{host.port}  pid {host.pid}", markup=False)
    out_console.print(f"inventory:   {info.inventory}", markup=False)
    out_console.print(f"known_hosts: {info.known_hosts}", markup=False)
    out_console.print(f"key:         {info.key}", markup=False)
    err_console.print(f"\ntry: opsforge exec all -i {info.inventory} -- uname -a", markup=False)


@click.group("lab")
def lab_group() -> None:
    """A local SSH lab: N real OpenSSH sshd processes on 127.0.0.1."""


@lab_group.command("up")
@click.argument("count", type=click.IntRange(1, 500), default=3)
@root_option
def up_command(count: int, root: Path | None) -> None:
    """Start COUNT sshd hosts (default 3) and write an inventory for them."""
    _show(lab_up(root or _default_root(), count))


@lab_group.command("down")
@root_option
def down_command(root: Path | None) -> None:
    """Stop the lab's sshd processes (by their recorded PIDs)."""
    stopped = lab_down(root or _default_root())
    out_console.print(f"stopped {stopped} sshd process{'es' if stopped != 1 else ''}")


@lab_group.command("status")
@root_option
def status_command(root: Path | None) -> None:
    """Show the running lab, if any."""
    info = lab_status(root or _default_root())
    if info is None:
        out_console.print("no lab running (start one with: opsforge lab up 3)")
        raise SystemExit(1)
    _show(info)
