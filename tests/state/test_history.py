"""Run history: JSONL event logs plus a SQLite summary row per run."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from opsforge.engine import (
    Executor,
    Plan,
    RunFinished,
    RunStarted,
    RunSummary,
    Step,
    StepContext,
    StepOutcome,
    StepStarted,
)
from opsforge.errors import CommandFailed, StateError
from opsforge.state import DB_NAME, History, RunRecorder
from opsforge.types import HostStatus, Result, Secret


async def changed(ctx: StepContext) -> StepOutcome:
    ctx.emit_output("stdout", "token=***\n")
    return StepOutcome(HostStatus.CHANGED, data={"password": Secret("hunter2")})


async def failing(ctx: StepContext) -> None:
    raise CommandFailed("exit 2", Result("false", 2, host=ctx.host))


def record_real_run(state: Path, argv: list[str] | None = None) -> tuple[RunSummary, int]:
    recorder = RunRecorder(state, command="exec", argv=argv or ["exec", "all", "--", "id"])
    count = 0

    def counting(event: object) -> None:
        nonlocal count
        count += 1

    executor = Executor(on_event=recorder)
    executor.subscribe(counting)
    plan = Plan.build([Step("a", "web1", changed), Step("b", "web2", failing)])
    return asyncio.run(executor.run(plan)), count


def fake_run(recorder: RunRecorder, run_id: str, started: float, *, finish: bool = True) -> None:
    recorder(RunStarted(run_id=run_id, hosts=("h1",), steps=1, forks=5, ts=started))
    recorder(StepStarted(run_id=run_id, host="h1", step_id="a", description="a"))
    if finish:
        summary = RunSummary(run_id, started, started + 2, {"h1": HostStatus.OK})
        recorder(RunFinished(run_id=run_id, summary=summary))


def test_record_list_get_and_events(tmp_path: Path) -> None:
    summary, count = record_real_run(tmp_path)
    history = History(tmp_path)
    (row,) = history.list()
    assert row.run_id == summary.run_id
    assert row.command == "exec"
    assert row.argv == ("exec", "all", "--", "id")
    assert row.complete
    assert (row.exit_code, row.state, row.interrupted) == (1, "failed", False)
    assert row.hosts_total == 2
    assert row.host_counts[HostStatus.CHANGED] == 1
    assert row.host_counts[HostStatus.FAILED] == 1
    assert row.host_counts[HostStatus.OK] == 0
    assert row.result_text() == "changed=1 failed=1"
    assert row.duration == pytest.approx(summary.duration, abs=1e-5)
    assert row.events_path == tmp_path / "runs" / f"{summary.run_id}.jsonl"
    assert history.get(summary.run_id[:12]) == row
    events = list(history.events(summary.run_id))
    assert len(events) == count
    assert events[0]["kind"] == "run_started"
    assert events[-1]["kind"] == "run_finished"
    assert events[-1]["summary"]["exit_code"] == 1
    assert json.dumps(row.to_dict())


def test_secrets_never_reach_disk(tmp_path: Path) -> None:
    record_real_run(tmp_path, argv=["exec", Secret("pa55word"), "--", "id"])  # type: ignore[list-item]
    blobs = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert b"hunter2" not in blobs
    assert b"pa55word" not in blobs
    assert b'"password": "***"' in blobs


def test_files_are_private(tmp_path: Path) -> None:
    state = tmp_path / "state"
    summary, _ = record_real_run(state)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE((state / "runs").stat().st_mode) == 0o700
    assert stat.S_IMODE((state / DB_NAME).stat().st_mode) == 0o600
    log = state / "runs" / f"{summary.run_id}.jsonl"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_run_without_run_finished_is_listed_incomplete(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path, command="exec", argv=[])
    fake_run(recorder, "20260101T000000Z-0000dead", 1000.0, finish=False)
    (row,) = History(tmp_path).list()
    assert not row.complete
    assert row.state == "incomplete"
    assert row.ended is None
    assert row.exit_code is None
    assert row.result_text() == "incomplete"
    kinds = [e["kind"] for e in History(tmp_path).events(row.run_id)]
    assert kinds == ["run_started", "step_started"]


def test_list_is_newest_first_and_limited(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path, command="exec", argv=[])
    for i in range(5):
        fake_run(recorder, f"2026010{i + 1}T000000Z-0000000{i}", 1000.0 + i)
    rows = History(tmp_path).list(limit=3)
    assert [r.run_id[:9] for r in rows] == ["20260105T", "20260104T", "20260103T"]
    assert len(History(tmp_path).list(limit=None)) == 5


def test_prefix_lookup(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path, command="exec", argv=[])
    fake_run(recorder, "20260101T000000Z-aaaa0001", 1.0)
    fake_run(recorder, "20260101T000000Z-aaaa0002", 2.0)
    fake_run(recorder, "20260102T000000Z-bbbb0001", 3.0)
    history = History(tmp_path)
    assert history.get("20260102").run_id == "20260102T000000Z-bbbb0001"
    assert history.get("20260101T000000Z-aaaa0001").run_id.endswith("aaaa0001")
    with pytest.raises(StateError, match="ambiguous") as info:
        history.get("20260101")
    assert "aaaa0001" in str(info.value)
    assert "aaaa0002" in str(info.value)
    with pytest.raises(StateError, match="no run matches '2027'"):
        history.get("2027")
    with pytest.raises(StateError, match="no run matches"):
        history.get("%")
    with pytest.raises(StateError, match="empty"):
        history.get("  ")


def test_truncated_last_line_is_tolerated(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path, command="exec", argv=[])
    fake_run(recorder, "20260101T000000Z-0000beef", 1.0, finish=False)
    log = tmp_path / "runs" / "20260101T000000Z-0000beef.jsonl"
    with log.open("a") as handle:
        handle.write('{"kind": "step_fini')
    kinds = [e["kind"] for e in History(tmp_path).events("20260101")]
    assert kinds == ["run_started", "step_started"]


def test_corrupt_line_in_the_middle_is_an_error(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path, command="exec", argv=[])
    fake_run(recorder, "20260101T000000Z-0000beef", 1.0, finish=False)
    log = tmp_path / "runs" / "20260101T000000Z-0000beef.jsonl"
    lines = log.read_text().splitlines()
    log.write_text("\n".join([lines[0], "garbage", lines[1]]) + "\n")
    with pytest.raises(StateError, match=r"beef\.jsonl:2: corrupt"):
        list(History(tmp_path).events("20260101"))


def test_missing_events_file(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path, command="exec", argv=[])
    fake_run(recorder, "20260101T000000Z-0000beef", 1.0)
    (tmp_path / "runs" / "20260101T000000Z-0000beef.jsonl").unlink()
    with pytest.raises(StateError, match="missing"):
        list(History(tmp_path).events("2026"))


def test_corrupt_database_is_a_state_error_naming_the_file(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME
    db.write_bytes(b"this is not sqlite, just some junk " * 200)
    with pytest.raises(StateError) as info:
        History(tmp_path).list()
    assert str(db) in str(info.value)
    with pytest.raises(StateError, match="unusable"):
        RunRecorder(tmp_path, command="exec", argv=[])


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    History(tmp_path).list()
    with sqlite3.connect(tmp_path / DB_NAME) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(StateError, match="schema version 99"):
        History(tmp_path).list()


def test_database_uses_wal_and_schema_version(tmp_path: Path) -> None:
    History(tmp_path).list()
    conn = sqlite3.connect(tmp_path / DB_NAME)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    finally:
        conn.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file modes")
def test_unwritable_state_dir_is_a_state_error(tmp_path: Path) -> None:
    state = tmp_path / "ro"
    state.mkdir(mode=0o500)
    try:
        with pytest.raises(StateError, match=str(state)):
            RunRecorder(state, command="exec", argv=[])
    finally:
        state.chmod(0o700)


def test_database_path_that_cannot_be_opened(tmp_path: Path) -> None:
    (tmp_path / DB_NAME).mkdir()
    with pytest.raises(StateError, match=f"{tmp_path / DB_NAME} is unusable"):
        RunRecorder(tmp_path, command="exec", argv=[])


def test_state_dir_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(StateError, match="not a directory"):
        History(tmp_path / "file").list()


def test_write_failure_during_a_run_is_reported_once(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path, command="exec", argv=[])
    recorder(RunStarted(run_id="20260101T000000Z-00000001", hosts=(), steps=0, forks=1))
    assert recorder._file is not None
    recorder._file.close()  # simulate the disk going away
    with pytest.raises(StateError, match="cannot write run log"):
        recorder(
            StepStarted(run_id="20260101T000000Z-00000001", host="h", step_id="a", description="")
        )
    assert recorder.error is not None
    recorder(StepStarted(run_id="20260101T000000Z-00000001", host="h", step_id="b", description=""))
