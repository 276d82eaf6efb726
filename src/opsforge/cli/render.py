"""Renderers: engine events to people (stderr, rich) or machines (stdout, JSON Lines)."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from typing import IO, Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from opsforge.cli.console import err_console, real_console
from opsforge.engine import (
    Event,
    HostOutcome,
    RunFinished,
    RunStarted,
    RunSummary,
    StepFinished,
    StepOutput,
)
from opsforge.types import HostStatus

STATUS_STYLE = {
    HostStatus.OK: "green",
    HostStatus.CHANGED: "yellow",
    HostStatus.FAILED: "bold red",
    HostStatus.TIMED_OUT: "bold red",
    HostStatus.UNREACHABLE: "bold magenta",
    HostStatus.AUTH_FAILED: "bold magenta",
    HostStatus.HOST_KEY_MISMATCH: "bold magenta",
    HostStatus.SKIPPED: "cyan",
    HostStatus.INTERRUPTED: "bold yellow",
}
PALETTE = ("cyan", "magenta", "blue", "green", "yellow", "bright_cyan", "bright_magenta")


class JsonLinesRenderer:
    """Every event as one JSON object per line on stdout."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, event: Event) -> None:
        self.stream.write(json.dumps(event.to_dict(), separators=(",", ":")) + "\n")
        self.stream.flush()


class TextRenderer:
    """Host-prefixed output as it streams (stdout), progress and recap (stderr)."""

    def __init__(self, hosts: Sequence[str], *, group_output: bool = False) -> None:
        self.hosts = list(hosts)
        self.group_output = group_output
        self.width = max((len(h) for h in self.hosts), default=0)
        self.color = sys.stdout.isatty()
        self.partial: dict[tuple[str, str], str] = defaultdict(str)
        self.styles = {h: PALETTE[i % len(PALETTE)] for i, h in enumerate(self.hosts)}
        self.progress: Progress | None = None
        self.task_id: Any = None
        self.done = 0

    # -- lifecycle -------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        if isinstance(event, StepOutput):
            self._output(event.host, event.stream, event.text)
        elif isinstance(event, StepFinished):
            self._flush_host(event.host)
            self._advance(event)
        elif isinstance(event, RunStarted):
            self._start_progress()
        elif isinstance(event, RunFinished):
            self._stop_progress()

    def _start_progress(self) -> None:
        if not err_console.is_terminal or len(self.hosts) < 2:
            return
        self.progress = Progress(
            TextColumn("[bold]running"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("hosts"),
            TimeElapsedColumn(),
            console=real_console(err_console),
            transient=True,
        )
        self.task_id = self.progress.add_task("hosts", total=len(self.hosts))
        self.progress.start()

    def _advance(self, event: StepFinished) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress.update(self.task_id, completed=self.done)
        if event.status.is_connect_failure or event.status in (
            HostStatus.TIMED_OUT,
            HostStatus.INTERRUPTED,
        ):
            style = STATUS_STYLE[event.status]
            err_console.print(
                Text.assemble(
                    (event.host.ljust(self.width), style),
                    " | ",
                    (event.status.value, style),
                    f": {event.message}" if event.message else "",
                )
            )

    def _stop_progress(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    # -- streaming output --------------------------------------------------------
    def _prefix(self, host: str) -> str:
        label = host.ljust(self.width)
        if self.color:
            code = 36 + (self.hosts.index(host) % 2) if host in self.hosts else 36
            return f"\x1b[{code}m{label}\x1b[0m | "
        return f"{label} | "

    def _output(self, host: str, stream: str, text: str) -> None:
        key = (host, stream)
        data = self.partial[key] + text
        lines = data.split("\n")
        self.partial[key] = lines.pop()
        if lines:
            self._write(host, stream, lines)

    def _write(self, host: str, stream: str, lines: list[str]) -> None:
        prefix = self._prefix(host)
        target = sys.stdout if stream == "stdout" else sys.stderr
        target.write("".join(f"{prefix}{line}\n" for line in lines))

    def _flush_host(self, host: str) -> None:
        for stream in ("stdout", "stderr"):
            rest = self.partial.pop((host, stream), "")
            if rest:
                self._write(host, stream, [rest])
        sys.stdout.flush()

    # -- the end -------------------------------------------------------------------
    def print_grouped(self, outcomes: dict[str, HostOutcome]) -> None:
        """``--group-output``: identical outputs folded into one block listing the hosts."""
        groups: dict[tuple[int | None, str, str], list[str]] = {}
        for host in self.hosts:
            outcome = outcomes.get(host)
            if outcome is None or outcome.result is None:
                continue
            r = outcome.result
            groups.setdefault((r.exit_code, r.stdout, r.stderr), []).append(host)
        for (code, out, err), hosts in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            header = Text.assemble(
                ("── ", "dim"),
                (", ".join(hosts), "bold"),
                (f"  ({len(hosts)} host{'s' if len(hosts) != 1 else ''}, exit {code})", "dim"),
            )
            err_console.print(header)
            sys.stdout.write(out if out.endswith("\n") or not out else out + "\n")
            sys.stdout.flush()
            if err:
                sys.stderr.write(err if err.endswith("\n") else err + "\n")
                sys.stderr.flush()

    def finish(self, summary: RunSummary, outcomes: dict[str, HostOutcome]) -> None:
        if self.group_output:
            self.print_grouped(outcomes)
        self.print_recap(summary, outcomes)

    def print_recap(self, summary: RunSummary, outcomes: dict[str, HostOutcome]) -> None:
        """A per-host recap table and a totals line, on stderr."""
        table = Table(title=None, box=None, pad_edge=False, show_edge=False)
        table.add_column("host", style="bold")
        table.add_column("status")
        table.add_column("exit", justify="right")
        table.add_column("time", justify="right")
        table.add_column("message", overflow="fold")
        for host in self.hosts:
            outcome = outcomes.get(host)
            status = final_status(summary, outcomes, host)
            result = outcome.result if outcome else None
            code = "" if result is None or result.exit_code is None else str(result.exit_code)
            took = "" if result is None else f"{result.duration:.2f}s"
            message = (outcome.message if outcome else "").strip().splitlines()
            table.add_row(
                Text(host),
                Text(status.value, STATUS_STYLE[status]),
                code,
                took,
                Text(message[0] if message else ""),
            )
        err_console.print()
        err_console.print(table)
        err_console.print(recap_line(summary))


def final_status(summary: RunSummary, outcomes: dict[str, HostOutcome], host: str) -> HostStatus:
    """A host's status at the end: its outcome's, else the summary's (skipped if neither)."""
    outcome = outcomes.get(host)
    if outcome is not None:
        return outcome.status
    return summary.host_status.get(host, HostStatus.SKIPPED)


def recap_line(summary: RunSummary) -> Text:
    counts: dict[HostStatus, int] = defaultdict(int)
    for status in summary.host_status.values():
        counts[status] += 1
    total = len(summary.host_status)
    parts: list[Any] = [(f"{total} host{'' if total == 1 else 's'}", "bold")]
    for status in HostStatus:
        if counts[status]:
            parts += [" · ", (f"{counts[status]} {status.value}", STATUS_STYLE[status])]
    parts += [f" · {summary.duration:.2f}s · run {summary.run_id}"]
    if summary.interrupted:
        parts += [" · ", ("interrupted", "bold yellow")]
    return Text.assemble(*parts)
