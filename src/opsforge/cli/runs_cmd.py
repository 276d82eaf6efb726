"""``opsforge runs list|show``: the run history."""

from __future__ import annotations

import datetime as dt
import json

import click
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from opsforge.cli.console import out_console
from opsforge.state import History, state_dir


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


@click.group("runs")
def runs_group() -> None:
    """Past runs: every run is recorded (events as JSONL, a row in SQLite)."""


@runs_group.command("list")
@click.option("-n", "--limit", type=click.IntRange(1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def list_command(limit: int, as_json: bool) -> None:
    """The most recent runs, newest first."""
    rows = History(state_dir()).list(limit=limit)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row.to_dict(), default=str))
        return
    table = Table(box=None, pad_edge=False)
    table.add_column("run", no_wrap=True)
    table.add_column("started", no_wrap=True)
    table.add_column("command", no_wrap=True, overflow="ellipsis", max_width=48)
    for name in ("hosts", "result", "exit", "time"):
        table.add_column(name, no_wrap=True)
    for row in rows:
        table.add_row(
            row.run_id,
            _when(row.started),
            Text(" ".join(row.argv)),
            str(row.hosts_total),
            row.result_text(),
            "" if row.exit_code is None else str(row.exit_code),
            "" if row.duration is None else f"{row.duration:.2f}s",
        )
    out_console.print(table)


@runs_group.command("show")
@click.argument("run_id")
@click.option("--events", is_flag=True, help="Print every recorded event as JSON Lines.")
def show_command(run_id: str, events: bool) -> None:
    """Show one run (RUN_ID or a unique prefix of it)."""
    history = History(state_dir())
    row = history.get(run_id)
    if events:
        for event in history.events(row.run_id):
            click.echo(json.dumps(event, default=str))
        return
    for key, value in row.to_dict().items():
        out_console.print(f"[bold]{key:>12}[/bold]  {escape(str(value))}")
