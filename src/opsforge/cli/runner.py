"""Drive one run from the CLI: renderers, run history, Ctrl-C, exit code."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Protocol

from rich.markup import escape

from opsforge.adhoc import Task
from opsforge.adhoc import build_plan as build_fanout_plan
from opsforge.cli.console import err_console
from opsforge.cli.interrupts import SignalInterrupts
from opsforge.cli.redact import Redactor, known_secrets
from opsforge.cli.render import JsonLinesRenderer
from opsforge.cli.targets import Targets
from opsforge.connectors.pool import ConnectionPool
from opsforge.engine import Event, Executor, HostOutcome, Plan, RunSummary, run_host_plan
from opsforge.errors import StateError
from opsforge.observe.runmetrics import run_metrics_from_env
from opsforge.state import RunRecorder, state_dir

PlanBuilder = Callable[[ConnectionPool], Plan]
#: runs something other than one plan (a playbook: one plan per play) over the pool
RunFunc = Callable[
    [ConnectionPool, list[Callable[[Event], None]], Callable[[Executor], None]],
    Awaitable[tuple[RunSummary, dict[str, HostOutcome]]],
]


class Renderer(Protocol):
    """A terminal renderer: sees every event, then prints the end of the run."""

    def __call__(self, event: Event) -> None: ...

    def finish(self, summary: RunSummary, outcomes: dict[str, HostOutcome]) -> None: ...


def _subscribers(
    targets: Targets, command: str, text: Renderer
) -> tuple[list[Callable[[Event], None]], Renderer | None]:
    subscribers: list[Callable[[Event], None]] = []
    shown: Renderer | None = None
    if targets.output == "json":
        subscribers.append(JsonLinesRenderer())
    else:
        subscribers.append(text)
        shown = text
    try:
        subscribers.append(RunRecorder(state_dir(), command=command, argv=sys.argv[1:]))
    except StateError as exc:  # history is a record, never a reason to refuse a run
        err_console.print(f"[yellow]warning:[/yellow] run history disabled: {escape(str(exc))}")
    # $OPSFORGE_METRICS_PUSH / $OPSFORGE_METRICS_TEXTFILE: the run's own metrics
    metrics = run_metrics_from_env(
        command, on_error=lambda m: err_console.print(f"[yellow]warning:[/yellow] {escape(m)}")
    )
    if metrics is not None:
        subscribers.append(metrics)
    return subscribers, shown


async def _run(
    targets: Targets,
    build: PlanBuilder | None,
    subscribers: list[Callable[[Event], None]],
    run: RunFunc | None = None,
) -> tuple[RunSummary, dict[str, HostOutcome]]:
    pool = ConnectionPool(targets.connect)
    hook = SignalInterrupts("stopping running commands")
    fanout = targets.fanout
    try:
        if run is not None:
            return await run(pool, subscribers, hook)
        assert build is not None
        return await run_host_plan(
            build(pool),
            forks=fanout.forks,
            serial=fanout.serial,
            fail_fast=fanout.fail_fast,
            max_fail_percentage=targets.max_fail_percentage,
            subscribers=subscribers,
            executor_hook=hook,
        )
    finally:
        hook.remove()
        await pool.close_all()


def execute(
    targets: Targets,
    build: PlanBuilder | None,
    *,
    command: str,
    text: Renderer,
    run: RunFunc | None = None,
) -> int:
    """Build the plan over a fresh connection pool, run it, render, return the exit code.
    ``run`` replaces the single plan (``build``) with a run of its own (playbooks)."""
    subscribers, shown = _subscribers(targets, command, text)
    become = targets.fanout.become
    redactor = Redactor(known_secrets(targets.specs, [become.password if become else None]))
    if redactor.forms:  # vault values and passwords never reach the screen or the run log
        subscribers = redactor.wrap(subscribers)
    summary, outcomes = asyncio.run(_run(targets, build, subscribers, run))
    if shown is not None:
        shown.finish(summary, redactor.value(outcomes))
    return int(summary.exit_code())


def fanout_plan(targets: Targets, task: Task) -> PlanBuilder:
    """The plan builder of an ad-hoc task (exec, copy, fetch) over ``targets``."""
    return lambda pool: build_fanout_plan(targets.specs, task, pool, targets.fanout)
