"""Run a one-step-per-host plan and collect each host's outcome (fan-outs and deploys)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from opsforge.engine.events import Event, StepFinished
from opsforge.engine.executor import Executor
from opsforge.engine.plan import Plan
from opsforge.engine.summary import RunSummary
from opsforge.types import HostStatus, Result

__all__ = ["HostOutcome", "run_host_plan"]


@dataclass(frozen=True, slots=True)
class HostOutcome:
    """How one host ended: its status, the Result (if any), a message and step data."""

    host: str
    status: HostStatus
    result: Result | None
    message: str = ""
    data: Any = None

    @property
    def ok(self) -> bool:
        return self.status.is_success


async def run_host_plan(
    plan: Plan,
    *,
    forks: int = 50,
    serial: Sequence[int | str] | None = None,
    fail_fast: bool = False,
    max_fail_percentage: float | None = None,
    subscribers: Sequence[Callable[[Event], None]] = (),
    executor_hook: Callable[[Executor], None] | None = None,
) -> tuple[RunSummary, dict[str, HostOutcome]]:
    """Run ``plan``; return the summary and each host's outcome (from its last step).

    ``subscribers`` receive every event, each isolated (a failing renderer never
    stops a run); ``executor_hook`` receives the executor before it starts (the
    CLI uses it to wire Ctrl-C to :meth:`Executor.cancel`).
    """
    outcomes: dict[str, HostOutcome] = {}

    def collect(event: Event) -> None:
        if isinstance(event, StepFinished):
            outcomes[event.host] = HostOutcome(
                event.host, event.status, event.result, event.message, event.data
            )

    executor = Executor(
        forks=forks,
        serial=serial,
        fail_fast=fail_fast,
        max_fail_percentage=max_fail_percentage,
        on_event=collect,
    )
    for subscriber in subscribers:
        executor.subscribe(subscriber)
    if executor_hook is not None:
        executor_hook(executor)
    summary = await executor.run(plan)
    for host in plan.hosts:
        if host not in outcomes:
            status = summary.host_status.get(host, HostStatus.SKIPPED)
            outcomes[host] = HostOutcome(host, status, None, "not run")
    return summary, outcomes
