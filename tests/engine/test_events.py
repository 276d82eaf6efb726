"""Events serialise to JSON with secrets masked; the summary's statuses and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import opsforge.engine
from opsforge.engine import (
    ExitCode,
    HostFinished,
    RunSummary,
    Step,
    StepContext,
    StepFinished,
    StepOutcome,
    worst_status,
)
from opsforge.engine.events import to_jsonable
from opsforge.types import HostStatus, Result, Secret

from .conftest import Runner

S = HostStatus


def test_every_event_is_json_with_secrets_masked(execute: Runner) -> None:
    async def action(ctx: StepContext) -> StepOutcome:
        ctx.emit_output("stdout", "done\n")
        return StepOutcome(
            S.CHANGED,
            Result("useradd deploy", 0, stdout="ok", host=ctx.host),
            message="user created",
            data={
                "password": Secret("hunter2"),
                "nested": [{"token": Secret("s3cr3t")}],
                "path": Path("/etc/app.conf"),
                "tags": frozenset({"b", "a"}),
                "bytes": b"\xffraw",
            },
        )

    run = execute([Step("a", "h1", action)], serial=[1])
    lines = [json.dumps(e.to_dict()) for e in run.events]
    text = "\n".join(lines)
    assert "hunter2" not in text
    assert "s3cr3t" not in text
    for line in lines:
        data = json.loads(line)
        assert {"kind", "run_id", "ts"} <= data.keys()
        assert isinstance(data["ts"], float)
    finished = json.loads(lines[[e.kind for e in run.events].index("step_finished")])
    assert finished["status"] == "changed"
    assert finished["result"]["command"] == "useradd deploy"
    assert finished["data"]["password"] == "***"
    assert finished["data"]["nested"] == [{"token": "***"}]
    assert finished["data"]["tags"] == ["a", "b"]
    assert finished["data"]["path"] == "/etc/app.conf"
    summary = json.loads(lines[-1])["summary"]
    assert summary["exit_code"] == 0
    assert summary["host_status"] == {"h1": "changed"}
    assert summary["host_counts"]["changed"] == 1
    started = json.loads(lines[0])
    assert started["serial"] == [1]
    assert started["hosts"] == ["h1"]


def test_to_jsonable_edge_cases() -> None:
    assert to_jsonable(float("nan")) is None
    assert to_jsonable(S.FAILED) == "failed"
    assert to_jsonable({1: Secret("x")}) == {"1": "***"}
    assert to_jsonable(object()).startswith("<object")


def test_event_classes_have_distinct_kinds() -> None:
    kinds = [getattr(opsforge.engine, n).kind for n in opsforge.engine.__all__
             if isinstance(getattr(opsforge.engine, n), type)
             and issubclass(getattr(opsforge.engine, n), opsforge.engine.Event)]  # fmt: skip
    assert len(kinds) == len(set(kinds)) == 9


@pytest.mark.parametrize(
    ("statuses", "worst"),
    [
        ([], S.SKIPPED),
        ([S.SKIPPED, S.OK], S.OK),
        ([S.OK, S.CHANGED], S.CHANGED),
        ([S.CHANGED, S.FAILED], S.FAILED),
        ([S.FAILED, S.TIMED_OUT], S.TIMED_OUT),
        ([S.TIMED_OUT, S.UNREACHABLE], S.UNREACHABLE),
        ([S.UNREACHABLE, S.AUTH_FAILED], S.AUTH_FAILED),
        ([S.AUTH_FAILED, S.HOST_KEY_MISMATCH], S.HOST_KEY_MISMATCH),
        ([S.HOST_KEY_MISMATCH, S.INTERRUPTED], S.INTERRUPTED),
    ],
)
def test_worst_status(statuses: list[HostStatus], worst: HostStatus) -> None:
    assert worst_status(statuses) is worst


@pytest.mark.parametrize(
    ("hosts", "interrupted", "code"),
    [
        ({"a": S.OK, "b": S.CHANGED, "c": S.SKIPPED}, False, ExitCode.OK),
        ({"a": S.OK, "b": S.FAILED}, False, ExitCode.FAILED),
        ({"a": S.TIMED_OUT}, False, ExitCode.FAILED),
        ({"a": S.UNREACHABLE, "b": S.OK}, False, ExitCode.UNREACHABLE),
        ({"a": S.AUTH_FAILED}, False, ExitCode.UNREACHABLE),
        ({"a": S.HOST_KEY_MISMATCH}, False, ExitCode.UNREACHABLE),
        ({"a": S.UNREACHABLE, "b": S.FAILED}, False, ExitCode.FAILED),
        ({"a": S.FAILED}, True, ExitCode.INTERRUPTED),
        ({"a": S.INTERRUPTED}, False, ExitCode.INTERRUPTED),
    ],
)
def test_exit_code_table(hosts: dict[str, HostStatus], interrupted: bool, code: ExitCode) -> None:
    summary = RunSummary("r", 1.0, 2.5, hosts, interrupted=interrupted)
    assert summary.exit_code() is code
    assert summary.duration == 1.5
    assert summary.to_dict()["exit_code"] == int(code)


def test_exit_code_values() -> None:
    assert {c.name: int(c) for c in ExitCode} == {
        "OK": 0, "FAILED": 1, "USAGE": 2, "UNREACHABLE": 3, "INTERNAL": 4, "INTERRUPTED": 130,
    }  # fmt: skip
    for code in ExitCode:
        assert f"{int(code):<4}" in opsforge.engine.EXIT_CODE_HELP


def test_host_finished_counts(execute: Runner) -> None:
    async def changed(ctx: StepContext) -> StepOutcome:
        return StepOutcome(S.CHANGED)

    async def failed(ctx: StepContext) -> Result:
        return Result("false", 1)

    run = execute(
        [
            Step("a", "h1", changed),
            Step("b", "h1", failed, deps=("a",)),
            Step("c", "h1", changed, deps=("b",)),
        ]
    )
    (host,) = run.of(HostFinished)
    assert (host.status, host.steps_total, host.steps_changed, host.steps_failed) == (
        S.FAILED, 3, 1, 1,
    )  # fmt: skip
    assert host.steps_skipped == 1
    assert host.message == "command exited with 1"
    assert run.of(StepFinished)[-1].attempts == 0


def test_public_api_is_pinned() -> None:
    assert sorted(opsforge.engine.__all__) == sorted(
        [
            "EXIT_CODE_HELP", "STATUS_SEVERITY", "Action", "BatchStarted", "Event",
            "EventHandler", "Executor", "ExitCode", "HostFinished", "HostOutcome", "Plan",
            "RunFinished", "RunStarted", "RunSummary", "SerialSpec", "Step", "StepContext",
            "StepFinished", "StepOutcome", "StepOutput", "StepRetrying", "StepStarted",
            "new_run_id", "run_host_plan", "split_batches", "to_jsonable", "worst_status",
        ]
    )  # fmt: skip
    for name in opsforge.engine.__all__:
        assert hasattr(opsforge.engine, name)
