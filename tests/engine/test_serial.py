"""Rolling batches (serial), and stopping later batches on failure."""

from __future__ import annotations

import itertools

import pytest

from opsforge.engine import BatchStarted, Step, split_batches
from opsforge.engine.batches import batch_sizes, normalize_serial
from opsforge.errors import CommandFailed, PlanError, UsageError
from opsforge.types import HostStatus, Result

from .actions import raiser, sleeper
from .conftest import Runner

HOSTS = [f"h{i}" for i in range(1, 9)]


def one_step_per_host(log: list[str], failing: set[str] = frozenset()) -> list[Step]:  # type: ignore[assignment]
    steps = []
    for host in HOSTS:
        action = (
            raiser(CommandFailed("exit 1", Result("false", 1, host=host)))
            if host in failing
            else sleeper(0.005, log)
        )
        steps.append(Step(f"s@{host}", host, action))
    return steps


@pytest.mark.parametrize(
    ("serial", "total", "sizes"),
    [
        (None, 8, [8]),
        (1, 3, [1, 1, 1]),
        ([2], 5, [2, 2, 1]),
        ("25%", 8, [2, 2, 2, 2]),
        ("25%", 3, [1, 1, 1]),
        ([1, "50%"], 6, [1, 3, 2]),
        ([1, 5, "50%"], 20, [1, 5, 10, 4]),
        (["3"], 4, [3, 1]),
        ("100%", 4, [4]),
    ],
)
def test_batch_sizes(serial: object, total: int, sizes: list[int]) -> None:
    assert batch_sizes(serial, total) == sizes  # type: ignore[arg-type]


@pytest.mark.parametrize("serial", [0, -1, "0%", "150%", "abc", "x%", True, [1, None]])
def test_bad_serial_is_a_usage_error(serial: object) -> None:
    with pytest.raises(UsageError, match="serial"):
        normalize_serial(serial)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("serial", "batches"),
    [
        (1, [[h] for h in HOSTS]),
        ("25%", [HOSTS[0:2], HOSTS[2:4], HOSTS[4:6], HOSTS[6:8]]),
        ([1, "50%"], [HOSTS[0:1], HOSTS[1:5], HOSTS[5:8]]),
    ],
)
def test_batches_run_one_after_another(
    execute: Runner, serial: object, batches: list[list[str]]
) -> None:
    log: list[str] = []
    run = execute(one_step_per_host(log), serial=serial)
    started = run.of(BatchStarted)
    assert [list(e.hosts) for e in started] == batches
    assert [e.index for e in started] == list(range(len(batches)))
    assert {e.total for e in started} == {len(batches)}
    assert split_batches(HOSTS, serial) == [tuple(b) for b in batches]  # type: ignore[arg-type]
    # every step of a batch ends before any step of the next batch starts
    for earlier, later in itertools.pairwise(batches):
        last_end = max(log.index(f"end:s@{h}") for h in earlier)
        first_start = min(log.index(f"start:s@{h}") for h in later)
        assert last_end < first_start
    assert run.summary.exit_code() == 0


def test_fail_fast_stops_later_batches(execute: Runner) -> None:
    log: list[str] = []
    run = execute(one_step_per_host(log, failing={"h3"}), serial=2, fail_fast=True)
    assert [list(e.hosts) for e in run.of(BatchStarted)] == [["h1", "h2"], ["h3", "h4"]]
    status = run.summary.host_status
    assert status["h3"] is HostStatus.FAILED
    assert [status[h] for h in HOSTS[4:]] == [HostStatus.SKIPPED] * 4
    assert run.finished()["s@h5"].message == "fail-fast: step s@h3 on h3 failed"
    assert run.summary.exit_code() == 1


def test_max_fail_percentage_exceeded_stops_later_batches(execute: Runner) -> None:
    log: list[str] = []
    run = execute(one_step_per_host(log, failing={"h2"}), serial=[2], max_fail_percentage=30)
    assert len(run.of(BatchStarted)) == 1
    assert run.summary.host_status["h1"] is HostStatus.OK
    assert [run.summary.host_status[h] for h in HOSTS[2:]] == [HostStatus.SKIPPED] * 6
    message = run.finished()["s@h3"].message
    assert message == "max_fail_percentage 30% exceeded: 1 of 2 hosts failed in batch 1"


def test_max_fail_percentage_not_exceeded_goes_on(execute: Runner) -> None:
    log: list[str] = []
    run = execute(one_step_per_host(log, failing={"h2"}), serial=[2], max_fail_percentage=50)
    assert len(run.of(BatchStarted)) == 4
    assert run.summary.host_counts[HostStatus.OK] == 7


def test_dependency_on_a_later_batch_is_a_plan_error(execute: Runner) -> None:
    steps = [Step("a", "h1", sleeper(), deps=("b",)), Step("b", "h2", sleeper())]
    with pytest.raises(PlanError, match="later batch 2"):
        execute(steps, serial=1)


def test_dependency_on_an_earlier_batch_is_fine(execute: Runner) -> None:
    steps = [Step("a", "h1", sleeper()), Step("b", "h2", sleeper(), deps=("a",))]
    run = execute(steps, serial=1)
    assert run.summary.exit_code() == 0
