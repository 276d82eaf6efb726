"""The engine: an immutable plan (a DAG of steps) and one asyncio executor.

Build a :class:`Plan` of :class:`Step` values, hand it to an :class:`Executor`,
subscribe to its events, get a :class:`RunSummary` back::

    plan = Plan.build([Step("uptime@web1", "web1", action), ...])
    summary = await Executor(forks=20, on_event=render).run(plan)
    sys.exit(summary.exit_code())

The engine never prints; everything it has to say is an event.
"""

from __future__ import annotations

from opsforge.engine.batches import SerialSpec, split_batches
from opsforge.engine.context import StepContext, StepOutcome
from opsforge.engine.events import (
    BatchStarted,
    Event,
    EventHandler,
    HostFinished,
    RunFinished,
    RunStarted,
    StepFinished,
    StepOutput,
    StepRetrying,
    StepStarted,
    to_jsonable,
)
from opsforge.engine.executor import Executor
from opsforge.engine.exitcodes import EXIT_CODE_HELP, ExitCode
from opsforge.engine.hosts import HostOutcome, run_host_plan
from opsforge.engine.plan import Action, Plan, Step
from opsforge.engine.summary import STATUS_SEVERITY, RunSummary, new_run_id, worst_status

__all__ = [
    "EXIT_CODE_HELP",
    "STATUS_SEVERITY",
    "Action",
    "BatchStarted",
    "Event",
    "EventHandler",
    "Executor",
    "ExitCode",
    "HostFinished",
    "HostOutcome",
    "Plan",
    "RunFinished",
    "RunStarted",
    "RunSummary",
    "SerialSpec",
    "Step",
    "StepContext",
    "StepFinished",
    "StepOutcome",
    "StepOutput",
    "StepRetrying",
    "StepStarted",
    "new_run_id",
    "run_host_plan",
    "split_batches",
    "to_jsonable",
    "worst_status",
]
