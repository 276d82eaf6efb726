"""The executor: DAG order, bounded concurrency, error boundary, skips, fail-fast, retries."""

from __future__ import annotations

import asyncio
import logging
import re
import time

import pytest

from opsforge.engine import (
    Event,
    Executor,
    HostFinished,
    Plan,
    RunFinished,
    Step,
    StepContext,
    StepOutcome,
    StepOutput,
    StepRetrying,
    StepStarted,
)
from opsforge.engine.runner import MAX_RETRY_DELAY, backoff_delay
from opsforge.errors import (
    AuthError,
    BecomeError,
    CommandFailed,
    CommandTimeout,
    HostKeyError,
    StateError,
    UnreachableError,
    UsageError,
)
from opsforge.types import HostStatus, Result

from .actions import raiser, sleeper
from .conftest import Runner

FAILED_RESULT = Result("false", 1, stderr="nope", host="h1")


def test_dependencies_run_in_order(execute: Runner) -> None:
    log: list[str] = []
    act = sleeper(0.01, log)
    run = execute(
        [
            Step("d", "h2", act, deps=("b", "c")),
            Step("a", "h1", act),
            Step("b", "h1", act, deps=("a",)),
            Step("c", "h2", act, deps=("a",)),
        ]
    )
    assert log.index("end:a") < log.index("start:b")
    assert log.index("end:a") < log.index("start:c")
    assert log.index("start:d") > max(log.index("end:b"), log.index("end:c"))
    assert run.summary.exit_code() == 0
    assert dict(run.summary.host_status) == {"h2": HostStatus.OK, "h1": HostStatus.OK}


def test_independent_steps_of_one_host_run_concurrently(execute: Runner) -> None:
    started = time.monotonic()
    execute([Step(f"s{i}", "h1", sleeper(0.1)) for i in range(5)])
    assert time.monotonic() - started < 0.35


def test_concurrency_is_bounded_by_forks(execute: Runner) -> None:
    current = 0
    peak = 0

    async def action(ctx: StepContext) -> None:
        nonlocal current, peak
        current += 1
        peak = max(peak, current)
        await asyncio.sleep(0.01)
        current -= 1

    run = execute([Step(f"s{i}", f"h{i % 7}", action) for i in range(20)], forks=3)
    assert peak == 3
    assert run.summary.step_counts[HostStatus.OK] == 20


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (UnreachableError("no route", host="h1"), HostStatus.UNREACHABLE),
        (AuthError("denied", host="h1"), HostStatus.AUTH_FAILED),
        (HostKeyError("changed", host="h1"), HostStatus.HOST_KEY_MISMATCH),
        (BecomeError("sudo: wrong password", host="h1"), HostStatus.FAILED),
        (CommandTimeout("too slow", Result("sleep 9", None, timed_out=True)), HostStatus.TIMED_OUT),
        (CommandFailed("exit 1", FAILED_RESULT), HostStatus.FAILED),
        (StateError("db gone"), HostStatus.FAILED),
        (TimeoutError("socket"), HostStatus.TIMED_OUT),
    ],
)
def test_exceptions_map_to_statuses(execute: Runner, exc: Exception, status: HostStatus) -> None:
    run = execute([Step("a", "h1", raiser(exc))])
    finished = run.finished()["a"]
    assert finished.status is status
    assert finished.traceback is None
    assert finished.message
    if isinstance(exc, CommandFailed | CommandTimeout):
        assert finished.result is exc.result


def test_unexpected_exception_is_an_internal_error_not_raised(execute: Runner) -> None:
    run = execute([Step("a", "h1", raiser(ZeroDivisionError("oops")))])
    finished = run.finished()["a"]
    assert finished.status is HostStatus.FAILED
    assert finished.message == "internal error in step a: ZeroDivisionError: oops"
    assert finished.traceback is not None
    assert "ZeroDivisionError" in finished.traceback
    assert run.summary.exit_code() == 1


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (None, HostStatus.OK),
        (Result("true", 0), HostStatus.OK),
        (FAILED_RESULT, HostStatus.FAILED),
        (StepOutcome(HostStatus.CHANGED, data={"changed": True}), HostStatus.CHANGED),
        (42, HostStatus.FAILED),
    ],
)
def test_return_values_map_to_statuses(execute: Runner, value: object, status: HostStatus) -> None:
    async def action(ctx: StepContext) -> object:
        return value

    run = execute([Step("a", "h1", action)])  # type: ignore[arg-type]
    assert run.finished()["a"].status is status
    if value == 42:
        assert "returned int" in run.finished()["a"].message


def test_keyboard_interrupt_is_never_swallowed() -> None:
    executor = Executor()
    plan = Plan.build([Step("a", "h1", raiser(KeyboardInterrupt()))])
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(executor.run(plan))


def test_failed_dependency_skips_dependents(execute: Runner) -> None:
    run = execute(
        [
            Step("a", "h1", raiser(CommandFailed("exit 1", FAILED_RESULT))),
            Step("b", "h1", sleeper(), deps=("a",)),
            Step("c", "h2", sleeper(), deps=("b",)),
            Step("d", "h2", sleeper()),
        ]
    )
    finished = run.finished()
    assert finished["b"].status is HostStatus.SKIPPED
    assert finished["b"].message == "dependency a failed"
    assert finished["c"].message == "dependency b was skipped"
    assert finished["d"].status is HostStatus.OK
    assert run.summary.host_status == {"h1": HostStatus.FAILED, "h2": HostStatus.OK}
    assert "b" not in {e.step_id for e in run.of(StepStarted)}


def test_after_failures_step_runs_after_a_failed_or_skipped_dependency(execute: Runner) -> None:
    run = execute(
        [
            Step("a", "h1", raiser(CommandFailed("exit 1", FAILED_RESULT))),
            Step("b", "h1", sleeper(), deps=("a",)),
            Step("c", "h1", sleeper(), deps=("a", "b"), after_failures=True),
        ]
    )
    assert run.status("b") == "skipped"
    assert run.status("c") == "ok"
    assert "c" in {e.step_id for e in run.of(StepStarted)}


def test_action_skipped_does_not_block_dependents(execute: Runner) -> None:
    async def nothing_to_do(ctx: StepContext) -> StepOutcome:
        return StepOutcome(HostStatus.SKIPPED, message="already there")

    run = execute([Step("a", "h1", nothing_to_do), Step("b", "h1", sleeper(), deps=("a",))])
    assert run.status("b") == "ok"


def test_connect_failure_skips_rest_of_host_only(execute: Runner) -> None:
    run = execute(
        [
            Step("a", "h1", raiser(UnreachableError("connection refused", host="h1"))),
            Step("b", "h1", sleeper()),
            Step("c", "h2", sleeper()),
            Step("d", "h2", sleeper()),
        ],
        forks=1,
    )
    finished = run.finished()
    assert finished["b"].status is HostStatus.SKIPPED
    assert finished["b"].message.startswith("host h1 unreachable: h1: connection refused")
    assert finished["c"].status is finished["d"].status is HostStatus.OK
    assert run.summary.host_status == {"h1": HostStatus.UNREACHABLE, "h2": HostStatus.OK}
    assert run.summary.exit_code() == 3
    hosts = {e.host: e for e in run.of(HostFinished)}
    assert hosts["h1"].status is HostStatus.UNREACHABLE
    assert hosts["h1"].steps_failed == 1
    assert hosts["h1"].steps_skipped == 1


def test_fail_fast_starts_nothing_new_but_lets_running_steps_finish(execute: Runner) -> None:
    log: list[str] = []
    run = execute(
        [
            Step("slow", "h1", sleeper(0.1, log)),
            Step("bad", "h2", raiser(CommandFailed("exit 1", FAILED_RESULT))),
            Step("later", "h3", sleeper(0, log)),
            Step("after", "h1", sleeper(0, log), deps=("slow",)),
        ],
        forks=2,
        fail_fast=True,
    )
    assert run.status("slow") == "ok"
    assert run.status("later") == run.status("after") == "skipped"
    assert run.finished()["later"].message == "fail-fast: step bad on h2 failed"
    assert log == ["start:slow", "end:slow"]
    assert run.summary.exit_code() == 1


def test_without_fail_fast_other_hosts_go_on(execute: Runner) -> None:
    run = execute(
        [Step("bad", "h1", raiser(CommandFailed("exit 1", FAILED_RESULT)))]
        + [Step(f"s{i}", f"h{i}", sleeper()) for i in range(2, 5)],
        forks=1,
    )
    assert run.summary.step_counts[HostStatus.OK] == 3


def test_retries_with_backoff(execute: Runner) -> None:
    attempts: list[int] = []

    async def flaky(ctx: StepContext) -> Result:
        attempts.append(ctx.attempt)
        return Result("try", 0 if ctx.attempt == 3 else 1)

    run = execute([Step("a", "h1", flaky, retries=5, retry_delay=0.01)])
    assert attempts == [1, 2, 3]
    assert run.finished()["a"].attempts == 3
    assert run.status("a") == "ok"
    retrying = run.of(StepRetrying)
    assert [e.attempt for e in retrying] == [1, 2]
    assert [e.retries_left for e in retrying] == [5, 4]
    assert 0.01 <= retrying[0].delay <= 0.0111
    assert 0.02 <= retrying[1].delay <= 0.0221
    assert [e.attempt for e in run.of(StepStarted)] == [1, 2, 3]


def test_retries_run_out(execute: Runner) -> None:
    run = execute([Step("a", "h1", raiser(UnreachableError("down")), retries=2, retry_delay=0)])
    assert run.finished()["a"].attempts == 3
    assert run.status("a") == "unreachable"


@pytest.mark.parametrize("exc", [AuthError("denied"), HostKeyError("changed")])
def test_auth_and_host_key_failures_are_not_retried(execute: Runner, exc: Exception) -> None:
    run = execute([Step("a", "h1", raiser(exc), retries=3, retry_delay=0)])
    assert run.finished()["a"].attempts == 1
    assert run.of(StepRetrying) == []


def test_backoff_doubles_is_capped_and_jittered() -> None:
    assert 1.0 <= backoff_delay(1.0, 1) <= 1.1
    assert 4.0 <= backoff_delay(1.0, 3) <= 4.4
    assert MAX_RETRY_DELAY <= backoff_delay(10.0, 20) <= MAX_RETRY_DELAY * 1.1


def test_step_timeout(execute: Runner) -> None:
    started = time.monotonic()
    run = execute([Step("a", "h1", sleeper(5), timeout=0.05), Step("b", "h1", sleeper())])
    assert time.monotonic() - started < 1
    finished = run.finished()["a"]
    assert finished.status is HostStatus.TIMED_OUT
    assert finished.message == "step a timed out after 0.05s"
    assert run.status("b") == "ok"
    assert run.summary.exit_code() == 1


def test_timeout_is_per_attempt_and_retried(execute: Runner) -> None:
    run = execute([Step("a", "h1", sleeper(5), timeout=0.02, retries=1, retry_delay=0)])
    assert run.finished()["a"].attempts == 2
    assert run.status("a") == "timed_out"


def test_output_events_and_context(execute: Runner) -> None:
    seen: list[str] = []

    async def action(ctx: StepContext) -> None:
        seen.append(f"{ctx.run_id}/{ctx.host}/{ctx.attempt}/{ctx.cancelled}")
        ctx.emit_output("stdout", "hello\n")

    run = execute([Step("a", "web1", action)])
    assert seen == [f"{run.summary.run_id}/web1/1/False"]
    out = [(e.host, e.step_id, e.stream, e.text) for e in run.of(StepOutput)]
    assert out == [("web1", "a", "stdout", "hello\n")]


def test_a_raising_subscriber_does_not_break_the_run(caplog: pytest.LogCaptureFixture) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("renderer bug")

    seen: list[Event] = []
    executor = Executor(on_event=broken)
    executor.subscribe(seen.append)
    with caplog.at_level(logging.WARNING, logger="opsforge.engine"):
        summary = asyncio.run(executor.run(Plan.build([Step("a", "h1", sleeper())])))
    assert summary.exit_code() == 0
    assert isinstance(seen[-1], RunFinished)
    assert "renderer bug" in caplog.text


def test_event_order_and_run_id(execute: Runner) -> None:
    run = execute([Step("a", "h1", sleeper()), Step("b", "h1", sleeper(), deps=("a",))])
    kinds = [e.kind for e in run.events]
    assert kinds == [
        "run_started", "batch_started",
        "step_started", "step_finished", "step_started", "step_finished",
        "host_finished", "run_finished",
    ]  # fmt: skip
    run_id = run.summary.run_id
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}", run_id)
    assert {e.run_id for e in run.events} == {run_id}


def test_bad_executor_settings_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        Executor(forks=0)
    with pytest.raises(UsageError):
        Executor(max_fail_percentage=150)
    with pytest.raises(UsageError):
        Executor(serial=["x"])


def test_empty_plan(execute: Runner) -> None:
    run = execute([])
    assert run.summary.exit_code() == 0
    assert [e.kind for e in run.events] == ["run_started", "run_finished"]


def test_one_plan_at_a_time() -> None:
    executor = Executor()
    plan = Plan.build([Step("a", "h1", sleeper(0.05))])

    async def main() -> None:
        first = asyncio.create_task(executor.run(plan))
        await asyncio.sleep(0.01)
        with pytest.raises(RuntimeError, match="already running"):
            await executor.run(plan)
        await first

    asyncio.run(main())
