"""Ctrl-C: Executor.cancel() and cancelling the task that awaits run()."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from opsforge.engine import Event, Executor, ExitCode, Plan, RunFinished, Step, StepContext
from opsforge.types import HostStatus

from .actions import sleeper


class Probe:
    """Actions that record starts and whether they saw their own cancellation."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.cancelled: list[str] = []

    async def long(self, ctx: StepContext) -> None:
        self.started.append(ctx.step.id)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            self.cancelled.append(ctx.step.id)  # where a connector kills remote processes
            raise


def plan_of(probe: Probe, n: int = 6) -> Plan:
    return Plan.build([Step(f"s{i}", f"h{i}", probe.long) for i in range(n)])


def check_interrupted(events: list[Event], probe: Probe, summary_source: object) -> None:
    finished = {e.step_id: e for e in events if e.kind == "step_finished"}  # type: ignore[attr-defined]
    assert probe.started == ["s0", "s1"]
    assert sorted(probe.cancelled) == ["s0", "s1"]
    assert finished["s0"].status is finished["s1"].status is HostStatus.INTERRUPTED  # type: ignore[attr-defined]
    for sid in ("s2", "s3", "s4", "s5"):
        assert finished[sid].status is HostStatus.SKIPPED  # type: ignore[attr-defined]
        assert finished[sid].message == "interrupted"  # type: ignore[attr-defined]
    assert isinstance(events[-1], RunFinished)
    summary = events[-1].summary
    assert summary is summary_source
    assert summary.interrupted
    assert summary.exit_code() is ExitCode.INTERRUPTED
    assert int(summary.exit_code()) == 130
    assert summary.host_status["s0".replace("s", "h")] is HostStatus.INTERRUPTED
    assert summary.host_status["h5"] is HostStatus.SKIPPED


def test_cancel_inside_the_loop_returns_the_summary() -> None:
    probe = Probe()
    events: list[Event] = []
    executor = Executor(forks=2, on_event=events.append)

    async def main() -> object:
        asyncio.get_running_loop().call_later(0.05, executor.cancel)
        return await executor.run(plan_of(probe))

    started = time.monotonic()
    summary = asyncio.run(main())
    assert time.monotonic() - started < 1
    check_interrupted(events, probe, summary)
    assert not executor.running


def test_cancel_from_another_thread() -> None:
    probe = Probe()
    events: list[Event] = []
    executor = Executor(forks=2, on_event=events.append)
    timer = threading.Timer(0.05, executor.cancel)

    async def main() -> object:
        timer.start()
        return await executor.run(plan_of(probe))

    summary = asyncio.run(main())
    timer.join()
    check_interrupted(events, probe, summary)


def test_cancelling_the_awaiting_task_emits_the_summary_then_reraises() -> None:
    probe = Probe()
    events: list[Event] = []
    executor = Executor(forks=2, on_event=events.append)

    async def main() -> None:
        task = asyncio.create_task(executor.run(plan_of(probe)))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert executor.last_summary is not None
    check_interrupted(events, probe, executor.last_summary)


def test_steps_see_the_cancelled_flag() -> None:
    seen: list[bool] = []
    executor = Executor()

    async def stubborn(ctx: StepContext) -> None:
        # shields its sleep: the task is cancelled, but the flag tells it to stop
        try:
            await asyncio.shield(asyncio.sleep(0.05))
        except asyncio.CancelledError:
            seen.append(ctx.cancelled)
            raise

    async def main() -> object:
        asyncio.get_running_loop().call_later(0.01, executor.cancel)
        return await executor.run(Plan.build([Step("a", "h1", stubborn)]))

    summary = asyncio.run(main())
    assert seen == [True]
    assert summary.interrupted  # type: ignore[attr-defined]


def test_cancel_during_retry_wait_interrupts() -> None:
    attempts: list[int] = []
    executor = Executor()

    async def failing(ctx: StepContext) -> None:
        attempts.append(ctx.attempt)
        raise TimeoutError

    async def main() -> object:
        asyncio.get_running_loop().call_later(0.05, executor.cancel)
        step = Step("a", "h1", failing, retries=3, retry_delay=5)
        return await executor.run(Plan.build([step]))

    started = time.monotonic()
    summary = asyncio.run(main())
    assert time.monotonic() - started < 1
    assert attempts == [1]
    assert summary.step_status["a"] is HostStatus.INTERRUPTED  # type: ignore[attr-defined]


def test_cancel_when_idle_is_a_no_op_and_executor_is_reusable() -> None:
    executor = Executor()
    executor.cancel()
    plan = Plan.build([Step("a", "h1", sleeper())])
    first = asyncio.run(executor.run(plan))
    second = asyncio.run(executor.run(plan))
    assert first.exit_code() == second.exit_code() == 0
    assert first.run_id != second.run_id
