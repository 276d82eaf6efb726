"""``pipeline run --ui panes``: one panel per running job with its last lines (rich Live).

The view is redrawn a few times a second from the run's events: a header (running,
done, total), a status line per finished job (✓/✗/○, status, duration, why) and, below,
a panel per running job holding its last lines, sized so that everything fits the
terminal's height (when too many jobs run at once, the panels that do not fit are named
on one line). The lines are the :class:`~opsforge.engine.StepOutput` texts, already
masked by the job log, exactly as ``--ui lines`` prints them. The job logs, events and
history are unchanged; the recap table follows the view, as for ``--ui lines``.

Imported only when ``--ui panes`` is used (rich.live costs start-up time).
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.panel import Panel
from rich.text import Text

from opsforge.cli.render_pipeline import JOB_STYLE, PALETTE, job_status
from opsforge.engine import Event, StepFinished, StepOutput, StepRetrying, StepStarted
from opsforge.pipelines.records import JobStatus

__all__ = ["PaneRenderer"]

#: lines kept per running job (a pane never shows more than the terminal's height)
KEEP_LINES = 500
SYMBOLS = {
    JobStatus.SUCCESS: "✓",
    JobStatus.CACHED: "✓",
    JobStatus.FAILED: "✗",
    JobStatus.TIMED_OUT: "✗",
    JobStatus.CANCELED: "✗",
}
STREAM_STYLE = {"stderr": "red", "opsforge": "dim"}
#: last lines of a failed job kept under its status line (its pane is gone)
FAILED_TAIL = 3


@dataclass
class _Running:
    started: float
    attempt: int = 1
    lines: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=KEEP_LINES))


def _line(text: str, style: str = "") -> Text:
    line = Text(text, style=style, no_wrap=True)
    line.overflow = "ellipsis"
    return line


def _finished_lines(event: StepFinished, job: _Running | None) -> list[Text]:
    """The status line of a finished job; a failed one's last lines under it."""
    status = job_status(event)
    allowed = bool(event.data.get("allowed_failure"))
    style = "yellow" if allowed else JOB_STYLE[status]
    line = Text.assemble(
        (SYMBOLS.get(status, "○") + " ", style),
        (event.step_id, "bold"),
        " ",
        (status.value + (" (allowed to fail)" if allowed else ""), style),
    )
    if event.attempts:
        line.append(f" {event.duration:.2f}s")
    if event.message and status is not JobStatus.SUCCESS:
        line.append(f": {event.message}")
    line.no_wrap, line.overflow = True, "ellipsis"
    out = [line]
    if status.failed and not allowed and job is not None:
        out.extend(_line(f"    {text}", "dim") for _, text in list(job.lines)[-FAILED_TAIL:])
    return out


class PaneRenderer:
    """An event subscriber drawing the pane view; use as a context manager around the run
    (leaving it stops the view and restores the cursor, Ctrl-C included)."""

    def __init__(self, jobs: Sequence[str], console: Console) -> None:
        self.console = console
        self.total = len(jobs)
        self.styles = {job: PALETTE[i % len(PALETTE)] for i, job in enumerate(jobs)}
        self.running: dict[str, _Running] = {}
        self.finished: list[Text] = []  # status lines (and failed jobs' last lines)
        self.done = 0
        self.final = False
        # events arrive on the run's thread, Live redraws on its own
        self.lock = threading.Lock()
        self.live = Live(
            self,
            console=console,
            refresh_per_second=8,
            redirect_stdout=True,
            redirect_stderr=sys.stderr.isatty(),  # notes above the view, not in it
            vertical_overflow="visible",
        )

    def __enter__(self) -> PaneRenderer:
        self.live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self.lock:
            self.final = True  # the last frame: every finished job, no panes
        self.live.stop()

    def __call__(self, event: Event) -> None:
        with self.lock:
            if isinstance(event, StepOutput):
                job = self.running.get(event.step_id)
                if job is not None:
                    job.lines.append((event.stream, event.text))
            elif isinstance(event, StepStarted):
                if event.attempt == 1 or event.step_id not in self.running:
                    self.running[event.step_id] = _Running(time.monotonic())
                self.running[event.step_id].attempt = event.attempt
            elif isinstance(event, StepRetrying):
                job = self.running.get(event.step_id)
                if job is not None:
                    job.lines.append(("opsforge", f"↻ retrying: {event.reason}"))
            elif isinstance(event, StepFinished):
                job = self.running.pop(event.step_id, None)
                self.finished.extend(_finished_lines(event, job))
                self.done += 1

    # -- drawing -------------------------------------------------------------------

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        with self.lock:
            frame = list(self.finished) if self.final else self._frame(options.size.height)
        yield from frame

    def _frame(self, height: int) -> list[RenderableType]:
        running = list(self.running.items())
        out: list[RenderableType] = [
            _line(f"pipeline: {len(running)} running, {self.done} of {self.total} done", "dim")
        ]
        rows = max(height - 1, 1)
        # finished jobs take at most a third of the screen while jobs run
        room = rows if not running else max(rows // 3, 1)
        count = len(self.finished)
        if count > room:
            shown = self.finished[count - room + 1 :] if room > 1 else []
            out.append(_line(f"… {count - len(shown)} earlier lines", "dim"))
            out.extend(shown)
        else:
            out.extend(self.finished)
        rows -= len(out) - 1
        if not running:
            return out
        fits = max(min(len(running), rows // 3), 0)  # a pane: 2 border rows + 1 line at least
        if fits < len(running):
            fits = max(min(len(running), (rows - 1) // 3), 0)
            names = ", ".join(name for name, _ in running[fits:])
            hidden = _line(f"… {len(running) - fits} more running: {names}", "dim")
            rows -= 1
        else:
            hidden = None
        now = time.monotonic()
        for index, (name, job) in enumerate(running[:fits]):
            pane_rows = rows // fits + (1 if index < rows % fits else 0)
            out.append(self._pane(name, job, pane_rows, now))
        if hidden is not None:
            out.append(hidden)
        return out

    def _pane(self, name: str, job: _Running, rows: int, now: float) -> Panel:
        body = max(min(rows - 2, len(job.lines)), 1)
        lines = []
        for stream, text in list(job.lines)[-body:]:
            lines.append(_line(text, STREAM_STYLE.get(stream, "")))
        retry = f" (attempt {job.attempt})" if job.attempt > 1 else ""
        return Panel(
            Group(*lines),
            title=Text(f"{name}{retry} · {now - job.started:.0f}s", style="bold"),
            title_align="left",
            border_style=self.styles.get(name, "cyan"),
            height=body + 2,
        )
