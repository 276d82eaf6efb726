"""Pipeline renderers: job-prefixed live logs, the recap table, list/graph/explain output."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from opsforge.cli.console import err_console, escape, out_console
from opsforge.engine import Event, StepFinished, StepOutput, StepRetrying, StepStarted
from opsforge.pipelines.planner import PipelinePlan
from opsforge.pipelines.records import JobRecord, JobStatus
from opsforge.pipelines.run import PipelineRun
from opsforge.state.deferred import DeferredFlush
from opsforge.types import HostStatus

if TYPE_CHECKING:
    from rich.text import Text

__all__ = [
    "JOB_STYLE",
    "JobLogRenderer",
    "job_status",
    "print_explain",
    "print_graph",
    "print_list",
    "print_recap",
    "recap_json",
]

PALETTE = ("cyan", "magenta", "blue", "green", "yellow", "bright_cyan", "bright_magenta")
JOB_STYLE = {
    JobStatus.SUCCESS: "green",
    JobStatus.FAILED: "bold red",
    JobStatus.TIMED_OUT: "bold red",
    JobStatus.SKIPPED: "cyan",
    JobStatus.CACHED: "blue",
    JobStatus.MANUAL: "yellow",
    JobStatus.NOT_RUN: "dim",
    JobStatus.CANCELED: "bold yellow",
}


#: control characters rich leaves out of printed text; so do the raw terminal lines
#: how long an output line may wait before it is written to a pipe or file
OUTPUT_FLUSH_DELAY = 0.05
_CONTROL = str.maketrans("", "", "\x07\x08\x0b\x0c\x0d")


def job_status(event: StepFinished) -> JobStatus:
    """The job's status from its finished event (an interrupted job reports no data)."""
    if "job_status" in event.data:
        return JobStatus(event.data["job_status"])
    return JobStatus.CANCELED if event.status is HostStatus.INTERRUPTED else JobStatus.SKIPPED


class JobLogRenderer:
    """Every output line as ``[job] text`` on stdout as it arrives; job starts and ends on
    stderr. Colors only on a terminal."""

    def __init__(self, jobs: Sequence[str]) -> None:
        self.width = min(max((len(j) for j in jobs), default=0), 40)
        self.color = sys.stdout.isatty()
        self.err_color = sys.stderr.isatty()
        self.styles = {job: PALETTE[i % len(PALETTE)] for i, job in enumerate(jobs)}
        # on a terminal each line is written between escape codes rendered once per job
        # and stream (rich's print per line costs ~0.2 ms: a verbose job waited on it)
        self.codes: dict[tuple[str, str], tuple[str, str]] = {}
        # lines to a pipe or file go out within OUTPUT_FLUSH_DELAY in one write (a write
        # per line cost a verbose job a system call per line)
        self._flush_later = DeferredFlush(self._flush, OUTPUT_FLUSH_DELAY)

    def _flush(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to deliver
            sys.stdout.flush()

    def _status(self, *parts: tuple[str, str]) -> None:
        """A job start/end line on stderr, from (text, style) parts (plain text when stderr
        is not a terminal: no rich at all). The output before it goes first."""
        self._flush_later.now()
        if self.err_color:
            from rich.text import Text

            err_console.print(Text.assemble(*parts))
        else:
            sys.stderr.write("".join(text for text, _ in parts) + "\n")

    def _prefix(self, job: str) -> Text:
        from rich.text import Text  # on a terminal only

        return Text(f"[{job}]".ljust(self.width + 2) + " ", style=self.styles.get(job, ""))

    def _codes(self, job: str, stream: str) -> tuple[str, str]:
        """What goes before and after a line's text: the ``[job]`` prefix and the line's
        style, as rich renders them on stdout's console (no codes without colors)."""
        codes = self.codes.get((job, stream))
        if codes is None:
            line = self._prefix(job)
            line.append("X", style={"stderr": "red", "opsforge": "dim"}.get(stream, ""))
            with out_console.capture() as capture:
                out_console.print(line, end="", markup=False, highlight=False)
            head, _, tail = capture.get().rpartition("X")
            codes = self.codes[(job, stream)] = (head, tail)
        return codes

    def __call__(self, event: Event) -> None:
        if isinstance(event, StepOutput):
            if self.color:
                head, tail = self._codes(event.step_id, event.stream)
                sys.stdout.write(f"{head}{event.text.translate(_CONTROL)}{tail}\n")
            else:
                sys.stdout.write(f"[{event.step_id}] {event.text}\n")
                self._flush_later.soon()
        elif isinstance(event, StepStarted) and event.attempt == 1:
            self._status(("▶ ", "dim"), (event.step_id, "bold"))
        elif isinstance(event, StepRetrying):
            self._status(
                ("↻ ", "yellow"), (event.step_id, "bold"), (f" retrying: {event.reason}", "")
            )
        elif isinstance(event, StepFinished):
            status = job_status(event)
            extra = " (allowed to fail)" if event.data.get("allowed_failure") else ""
            message = (
                f": {event.message}" if event.message and status is not JobStatus.SUCCESS else ""
            )
            self._status(
                ("■ ", JOB_STYLE[status]),
                (event.step_id, "bold"),
                (" ", ""),
                (status.value + extra, JOB_STYLE[status]),
                (f" {event.duration:.2f}s" if event.attempts else "", ""),
                (message, ""),
            )


_RECAP_COLUMNS = ("job", "stage", "status", "time", "tries", "exit", "why / log")


def _recap_rows(run: PipelineRun) -> list[tuple[JobRecord, list[str]]]:
    rows = []
    for record in run.records.values():
        detail = record.message if record.status is not JobStatus.SUCCESS else ""
        if record.log_path and (record.status.failed or not detail):
            detail = (detail + " " if detail else "") + str(record.log_path)
        label = record.status.value + (" (allowed)" if record.allowed_failure else "")
        cells = [
            record.name,
            record.stage,
            label,
            f"{record.duration:.2f}s" if record.attempts else "",
            str(record.attempts) if record.attempts else "",
            "" if record.exit_code is None else str(record.exit_code),
            detail,
        ]
        rows.append((record, cells))
    return rows


def _plain_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns two spaces apart, as the rich table looks without color (a pipe or a log
    file gets the same layout, without rendering cost)."""
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = (
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in (header, *rows)
    )
    return "\n".join(lines) + "\n"


def print_recap(run: PipelineRun) -> None:
    rows = _recap_rows(run)
    counts: dict[str, int] = {}
    for _, cells in rows:
        counts[cells[2]] = counts.get(cells[2], 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    verdict = "failed" if run.exit_code else "passed"
    tail = (
        f" in {run.summary.duration:.2f}s: {summary} (exit {run.exit_code}; logs in {run.run_dir})"
    )
    if not sys.stderr.isatty():  # plain text: the same layout, none of the rendering cost
        plain = _plain_table(_RECAP_COLUMNS, [cells for _, cells in rows])
        sys.stderr.write(f"{plain}pipeline {verdict}{tail}\n")
        sys.stderr.flush()
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, title=None)
    for column in _RECAP_COLUMNS:
        table.add_column(column, no_wrap=column != "why / log", overflow="fold")
    for record, cells in rows:
        table.add_row(
            Text(cells[0]),
            *cells[1:2],
            Text(cells[2], style=JOB_STYLE[record.status]),
            *cells[3:6],
            Text(cells[6]),
        )
    err_console.print(table)
    style = "bold red" if run.exit_code else "bold green"
    err_console.print(Text.assemble(("pipeline ", style), (verdict, style), tail))


def recap_json(run: PipelineRun) -> dict[str, Any]:
    return {
        "kind": "pipeline_finished",
        "run_id": run.run_id,
        "exit_code": run.exit_code,
        "run_dir": str(run.run_dir),
        "jobs": [
            {
                "name": r.name,
                "stage": r.stage,
                "status": r.status.value,
                "allowed_failure": r.allowed_failure,
                "exit_code": r.exit_code,
                "attempts": r.attempts,
                "duration": round(r.duration, 3),
                "message": r.message,
                "log": str(r.log_path) if r.log_path else None,
            }
            for r in run.records.values()
        ],
    }


def print_list(plan: PipelinePlan, as_json: bool) -> None:
    if as_json:
        out_console.print_json(json.dumps(plan.to_dict()))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False)
    for column in ("job", "stage", "when", "needs", "runs", "why"):
        table.add_column(column, overflow="fold")
    for planned in plan.jobs:
        job = planned.job
        needs = "(stage order)" if job.needs is None else ", ".join(planned.deps) or "-"
        table.add_row(
            Text(planned.name),
            job.stage,
            job.when.value,
            Text(needs),
            Text("yes" if planned.run else "no", style="green" if planned.run else "yellow"),
            Text(planned.reason),
        )
    for excluded in plan.pipeline.excluded:
        table.add_row(
            Text(excluded.name),
            excluded.stage or "",
            "",
            "",
            Text("excluded", style="dim"),
            Text(excluded.reason),
        )
    out_console.print(table)
    if not plan.pipeline.runs:
        out_console.print(Text(f"the pipeline does not run: {plan.pipeline.workflow_reason}"))


def _levels(plan: PipelinePlan) -> list[list[str]]:
    level: dict[str, int] = {}
    for planned in plan.jobs:  # deps come first in stage order, but needs may point later
        level[planned.name] = 0
    changed = True
    while changed:
        changed = False
        for planned in plan.jobs:
            want = max((level[d] + 1 for d in planned.deps), default=0)
            if want > level[planned.name]:
                level[planned.name] = want
                changed = True
    rows: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for name, depth in level.items():
        rows[depth].append(name)
    return rows


def print_graph(plan: PipelinePlan, as_json: bool) -> None:
    if as_json:
        out_console.print_json(json.dumps(plan.to_dict()))
        return
    from rich.text import Text

    for depth, names in enumerate(_levels(plan)):
        out_console.print(Text(f"level {depth}", style="bold"))
        for name in names:
            planned = plan[name]
            marker = (
                "" if planned.run else f"  ({'manual' if planned.job.is_manual else 'not run'})"
            )
            needs = f"  ← {', '.join(planned.deps)}" if planned.deps else ""
            out_console.print(Text(f"  {name}{needs}{marker}"))


def print_explain(plan: PipelinePlan, name: str) -> bool:
    """Why ``name`` runs or not; False when the pipeline has no such job."""
    from rich.text import Text

    pipeline = plan.pipeline
    for excluded in pipeline.excluded:
        if excluded.name == name:
            where = f" ({excluded.source})" if excluded.source else ""
            out_console.print(
                f"{escape(name)}{where}: not in the pipeline: {escape(excluded.reason)}"
            )
            return True
    try:
        planned = plan[name]
    except KeyError:
        return False
    job = planned.job
    lines = [
        f"{name} ({job.source})" if job.source else name,
        f"  in the pipeline: {job.condition.reason if job.condition else 'yes'}",
    ]
    if job.condition and job.condition.expression:
        lines.append(f"  condition: {job.condition.expression}")
    lines.append(f"  runs: {'yes' if planned.run else 'no'} ({planned.reason})")
    lines.append(f"  when: {job.when.value}")
    if job.needs is None:
        lines.append(f"  waits for (earlier stages): {', '.join(planned.deps) or 'nothing'}")
    else:
        lines.append(f"  needs: {', '.join(planned.deps) or 'nothing (starts at once)'}")
    if planned.artifacts_from:
        lines.append(f"  gets artifacts of: {', '.join(planned.artifacts_from)}")
    if job.matrix:
        lines.append("  matrix: " + ", ".join(f"{k}={v}" for k, v in job.matrix.items()))
    if job.allow_failure.allowed:
        codes = job.allow_failure.exit_codes
        lines.append("  allowed to fail" + (f" with exit codes {list(codes)}" if codes else ""))
    if job.retry.max:
        lines.append(f"  retry: {job.retry.max} ({', '.join(job.retry.when) or 'always'})")
    if job.timeout:
        lines.append(f"  timeout: {job.timeout:g}s")
    if not pipeline.runs:
        lines.append(f"  but the pipeline does not run: {pipeline.workflow_reason}")
    for line in lines:
        out_console.print(Text(line))
    return True
