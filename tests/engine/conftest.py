"""Helpers for engine tests: run a plan on a fresh event loop and keep its events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from opsforge.engine import Event, Executor, Plan, RunSummary, Step, StepFinished


@dataclass
class Run:
    summary: RunSummary
    events: list[Event] = field(default_factory=list)

    def of(self, kind: type[Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def finished(self) -> dict[str, StepFinished]:
        return {e.step_id: e for e in self.of(StepFinished)}

    def status(self, step_id: str) -> str:
        return self.finished()[step_id].status.value


Runner = Callable[..., Run]


@pytest.fixture
def execute() -> Runner:
    """``execute(steps, **executor_kwargs)`` runs the steps and returns a :class:`Run`."""

    def run(steps: Iterable[Step], **kwargs: Any) -> Run:
        events: list[Event] = []
        executor = Executor(on_event=events.append, **kwargs)
        summary = asyncio.run(executor.run(Plan.build(steps)))
        return Run(summary, events)

    return run
