"""Rendering a deploy: changed/failed operations as they finish, diffs, a per-host recap."""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from opsforge.cli.console import err_console, out_console
from opsforge.cli.render import STATUS_STYLE, recap_line
from opsforge.deploy.events import OperationResult, OpStatus
from opsforge.deploy.operation import DiffItem
from opsforge.engine import Event, HostOutcome, RunSummary, StepFinished
from opsforge.types import HostStatus

OP_STYLE = {
    OpStatus.OK: "green",
    OpStatus.CHANGED: "yellow",
    OpStatus.WOULD_CHANGE: "yellow",
    OpStatus.FAILED: "bold red",
    OpStatus.IGNORED: "magenta",
    OpStatus.SKIPPED: "cyan",
}
SHOWN = (OpStatus.CHANGED, OpStatus.WOULD_CHANGE, OpStatus.FAILED, OpStatus.IGNORED)
MAX_DIFF_LINES = 200


def diff_lines(item: DiffItem) -> list[Text]:
    """A unified diff for content, ``before -> after`` for attributes."""
    if not item.content:
        before = "(absent)" if item.before is None else item.before
        after = "(absent)" if item.after is None else item.after
        return [Text.assemble(f"    {item.label}: ", (before, "red"), " -> ", (after, "green"))]
    old = (item.before or "").splitlines(keepends=True)
    new = (item.after or "").splitlines(keepends=True)
    lines = list(
        difflib.unified_diff(
            old,
            new,
            fromfile=f"before: {item.label}" if item.before is not None else "/dev/null",
            tofile=f"after: {item.label}" if item.after is not None else "/dev/null",
        )
    )
    out: list[Text] = []
    for line in lines[:MAX_DIFF_LINES]:
        text = line.rstrip("\n")
        style = ""
        if text.startswith(("+++", "---")):
            style = "bold"
        elif text.startswith("+"):
            style = "green"
        elif text.startswith("-"):
            style = "red"
        elif text.startswith("@@"):
            style = "cyan"
        out.append(Text("    " + text, style))
    if len(lines) > MAX_DIFF_LINES:
        out.append(Text(f"    ... {len(lines) - MAX_DIFF_LINES} more diff lines", "dim"))
    return out


class DeployRenderer:
    """Prints what changed (and with ``show_diff`` how) per operation, then the recap."""

    def __init__(self, hosts: Sequence[str], *, show_diff: bool, check: bool) -> None:
        self.hosts = list(hosts)
        self.show_diff = show_diff
        self.check = check
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.width = max((len(h) for h in self.hosts), default=0)

    def __call__(self, event: Event) -> None:
        if isinstance(event, OperationResult):
            self.counts[event.host][event.status] += 1
            if event.status in SHOWN or (event.op == "debug" and event.output):
                self._print_op(event)
        elif isinstance(event, StepFinished) and event.status.is_connect_failure:
            err_console.print(
                Text.assemble(
                    (event.host.ljust(self.width), STATUS_STYLE[event.status]),
                    " | ",
                    (event.status.value, STATUS_STYLE[event.status]),
                    f": {event.message}",
                )
            )

    def _print_op(self, event: OperationResult) -> None:
        label = event.status.replace("_", " ")
        name = event.name if event.handler is None else f"{event.name} (handler {event.handler})"
        out_console.print(
            Text.assemble(
                (event.host.ljust(self.width), "bold"),
                " | ",
                (label, OP_STYLE.get(event.status, "")),
                " | ",
                name,
            )
        )
        if event.op == "debug" and event.output:
            for output_line in event.output.rstrip().splitlines()[-50:]:
                out_console.print(Text("    " + output_line))
        elif event.status in (OpStatus.FAILED, OpStatus.IGNORED) and event.output:
            for output_line in event.output.strip().splitlines()[-20:]:
                out_console.print(Text("    " + output_line, "red"))
            if event.origin:
                out_console.print(Text(f"    declared at {event.origin}", "dim"))
        if self.show_diff:
            for item in event.diff:
                for diff_line in diff_lines(item):
                    out_console.print(diff_line)
            if self.check and not event.diff:
                for command in event.commands:
                    out_console.print(Text(f"    $ {command}", "dim"))

    def finish(self, summary: RunSummary, outcomes: dict[str, HostOutcome]) -> None:
        table = Table(box=None, pad_edge=False, show_edge=False)
        for column in ("host", "status", "ok", "changed", "failed", "skipped", "round trips"):
            table.add_column(column, justify="left" if column in ("host", "status") else "right")
        table.add_column("message", overflow="fold")
        changed_key = OpStatus.WOULD_CHANGE if self.check else OpStatus.CHANGED
        for host in self.hosts:
            outcome = outcomes.get(host)
            status = (
                outcome.status if outcome else summary.host_status.get(host, HostStatus.SKIPPED)
            )
            counts = self.counts.get(host, Counter())
            data: Any = outcome.data if outcome is not None else None
            trips = str(data.get("round_trips", "")) if isinstance(data, dict) else ""
            message = (outcome.message if outcome else "").strip().splitlines()
            table.add_row(
                Text(host),
                Text(status.value, STATUS_STYLE[status]),
                str(counts[OpStatus.OK]),
                Text(str(counts[changed_key]), "yellow" if counts[changed_key] else ""),
                Text(str(counts[OpStatus.FAILED]), "red" if counts[OpStatus.FAILED] else ""),
                str(counts[OpStatus.SKIPPED]),
                trips,
                Text(message[0] if message else ""),
            )
        err_console.print()
        if self.check:
            err_console.print(Text("check mode: nothing was changed", "bold yellow"))
        err_console.print(table)
        err_console.print(recap_line(summary))
