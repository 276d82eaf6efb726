"""Run history: every event of a run as JSON Lines, one summary row per run in SQLite.

Layout of the state directory::

    history.sqlite          runs table (see opsforge.state.database)
    runs/<run_id>.jsonl     every event of the run, one JSON object per line

:class:`RunRecorder` is an event subscriber. It writes the row **when the run
starts** (``ended``/``exit_code`` NULL) and completes it at ``RunFinished``, so a
run whose process died still shows in :meth:`History.list`, as *incomplete*,
with its events file as far as it got. Every event is written at once except output
lines, which reach the file within :data:`OUTPUT_FLUSH_DELAY` (a job printing a line
per millisecond costs one write per 0.1 s, not one per line); ``RunFinished`` flushes
and fsyncs the file.

The recorder needs only ``event.to_dict()`` and ``event.to_json()`` (it does not import
the engine): events arrive already JSON-safe, with secrets masked as ``***``.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from opsforge.errors import StateError
from opsforge.state.database import RUN_COLUMNS, STATUS_COLUMNS, open_database
from opsforge.state.deferred import DeferredFlush
from opsforge.state.paths import ensure_private_dir
from opsforge.types import HostStatus, Secret

__all__ = ["History", "RunRecorder", "RunRow", "SupportsToDict"]

logger = logging.getLogger("opsforge.state")

RUNS_DIR = "runs"
_STATES = {0: "ok", 1: "failed", 2: "usage error", 3: "unreachable", 4: "internal error"}


class SupportsToDict(Protocol):
    """What the recorder needs from an event (``to_json``: ``to_dict`` as one JSON line,
    used for output lines)."""

    def to_dict(self) -> dict[str, Any]: ...

    def to_json(self) -> str: ...


@dataclass(frozen=True, slots=True)
class RunRow:
    """One run as the history knows it. ``ended``/``exit_code`` are None while incomplete."""

    run_id: str
    command: str
    argv: tuple[str, ...]
    started: float
    ended: float | None
    duration: float | None
    exit_code: int | None
    interrupted: bool
    hosts_total: int
    host_counts: Mapping[HostStatus, int] = field(default_factory=dict)
    events_path: Path = Path()

    @property
    def complete(self) -> bool:
        return self.ended is not None

    @property
    def state(self) -> str:
        """``incomplete`` (running, or its process died), ``interrupted``, ``ok``, ``failed``…"""
        if not self.complete or self.exit_code is None:
            return "incomplete"
        if self.interrupted or self.exit_code == 130:
            return "interrupted"
        return _STATES.get(self.exit_code, f"exit {self.exit_code}")

    def result_text(self) -> str:
        """One line for tables: ``incomplete``, or host counts like ``ok=3 failed=1``."""
        if not self.complete:
            return "incomplete"
        parts = [f"{status.value}={n}" for status, n in self.host_counts.items() if n]
        if self.interrupted:
            parts.insert(0, "interrupted")
        return " ".join(parts) or self.state

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "command": self.command,
            "argv": list(self.argv),
            "started": self.started,
            "ended": self.ended,
            "duration": self.duration,
            "exit_code": self.exit_code,
            "interrupted": self.interrupted,
            "state": self.state,
            "hosts_total": self.hosts_total,
            "host_counts": {s.value: n for s, n in self.host_counts.items()},
            "events_path": str(self.events_path),
        }


def _row(state_dir: Path, row: Mapping[str, Any]) -> RunRow:
    return RunRow(
        run_id=row["run_id"],
        command=row["command"],
        argv=tuple(json.loads(row["argv"])),
        started=row["started"],
        ended=row["ended"],
        duration=row["duration"],
        exit_code=row["exit_code"],
        interrupted=bool(row["interrupted"]),
        hosts_total=row["hosts_total"],
        host_counts={status: row[name] for status, name in STATUS_COLUMNS.items()},
        events_path=state_dir / row["events_path"],
    )


#: how long an output line may wait in the run log's buffer (other events are written
#: at once)
OUTPUT_FLUSH_DELAY = 0.1


def _open_private(path: Path) -> IO[str]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8")


class RunRecorder:
    """Event subscriber writing ``runs/<run_id>.jsonl`` and the ``runs`` row.

    Opens (and creates, or migrates) the database on construction, so an unusable
    state directory is reported before the run starts. If writing fails during
    the run, the first failure raises :class:`StateError` (the executor logs it)
    and is kept in :attr:`error`; recording then stops and the run goes on.
    """

    def __init__(self, state_dir: Path, *, command: str, argv: Sequence[str]) -> None:
        self.state_dir = state_dir
        self.command = command
        self.argv = tuple("***" if isinstance(a, Secret) else str(a) for a in argv)
        self.run_id: str | None = None
        self.events_path: Path | None = None
        self.error: StateError | None = None
        self._file: IO[str] | None = None
        self._flush_later = DeferredFlush(self._flush, OUTPUT_FLUSH_DELAY)
        ensure_private_dir(state_dir)
        ensure_private_dir(state_dir / RUNS_DIR)
        with open_database(state_dir):
            pass

    def __call__(self, event: SupportsToDict) -> None:
        if self.error is not None:
            return
        try:
            if getattr(event, "kind", None) == "step_output" and self._file is not None:
                self._file.write(event.to_json() + "\n")  # the bulk of events: no dict
                self._flush_later.soon()
                return
            self._record(event.to_dict())
        except StateError as exc:
            self._fail(exc)
            raise
        except (OSError, ValueError, TypeError) as exc:
            path = self.events_path or self.state_dir
            error = StateError(f"cannot write run log {path}: {exc}")
            self._fail(error)
            raise error from exc

    def _record(self, data: dict[str, Any]) -> None:
        kind = data.get("kind")
        if kind == "run_started":
            self._start(data)
        if self._file is None:
            return  # not our run, or recording started late: nothing to append to
        self._file.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
        if kind == "run_finished":
            self._finish(data)
        else:
            self._file.flush()

    def _flush(self) -> None:
        """Output lines (most events, one per line a command prints) reach the file within
        :data:`OUTPUT_FLUSH_DELAY` seconds, in one write, not one write each."""
        if self._file is not None and self.error is None:
            try:
                self._file.flush()
            except OSError as exc:  # reported like any write failure, once
                self._fail(StateError(f"cannot write run log {self.events_path}: {exc}"))

    def _start(self, data: Mapping[str, Any]) -> None:
        self.close()
        run_id = str(data["run_id"])
        relative = f"{RUNS_DIR}/{run_id}.jsonl"
        self.run_id = run_id
        self.events_path = self.state_dir / relative
        self._file = _open_private(self.events_path)
        with open_database(self.state_dir) as conn:
            conn.execute(
                "INSERT INTO runs (run_id, command, argv, started, events_path) "
                "VALUES (?, ?, ?, ?, ?)",
                (run_id, self.command, json.dumps(self.argv), float(data["ts"]), relative),
            )

    def _finish(self, data: Mapping[str, Any]) -> None:
        summary = data["summary"]
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
        self.close()
        counts = summary.get("host_counts", {})
        values = {
            "run_id": summary["run_id"],
            "command": self.command,
            "argv": json.dumps(self.argv),
            "started": float(summary["started"]),
            "ended": float(summary["ended"]),
            "duration": float(summary["duration"]),
            "exit_code": int(summary["exit_code"]),
            "interrupted": int(bool(summary["interrupted"])),
            "hosts_total": int(summary["hosts_total"]),
            **{name: int(counts.get(s.value, 0)) for s, name in STATUS_COLUMNS.items()},
            "events_path": f"{RUNS_DIR}/{summary['run_id']}.jsonl",
        }
        names = ", ".join(RUN_COLUMNS)
        marks = ", ".join(f":{name}" for name in RUN_COLUMNS)
        updates = ", ".join(f"{name} = excluded.{name}" for name in RUN_COLUMNS[1:])
        with open_database(self.state_dir) as conn:
            conn.execute(
                f"INSERT INTO runs ({names}) VALUES ({marks}) "
                f"ON CONFLICT (run_id) DO UPDATE SET {updates}",
                values,
            )

    def _fail(self, error: StateError) -> None:
        self.error = error
        try:
            self.close()
        except OSError:
            logger.debug("closing the run log failed too", exc_info=True)

    def close(self) -> None:
        """Close the events file (done at RunFinished; safe to call again)."""
        if self._file is not None:
            file, self._file = self._file, None
            file.close()


class History:
    """Read the run history of a state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir

    def list(self, limit: int | None = 20) -> builtins.list[RunRow]:
        """The latest runs, newest first (``limit=None``: all of them)."""
        sql = "SELECT * FROM runs ORDER BY started DESC, run_id DESC"
        params: tuple[int, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (max(0, limit),)
        with open_database(self.state_dir) as conn:
            return [_row(self.state_dir, r) for r in conn.execute(sql, params)]

    def get(self, run_id: str) -> RunRow:
        """The run with this id, or the only run whose id starts with it.

        Raises :class:`StateError` for an unknown or ambiguous prefix, naming
        the candidates.
        """
        prefix = run_id.strip()
        if not prefix:
            raise StateError("an empty run id matches nothing")
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with open_database(self.state_dir) as conn:
            exact = conn.execute("SELECT * FROM runs WHERE run_id = ?", (prefix,)).fetchone()
            if exact is not None:
                return _row(self.state_dir, exact)
            rows = conn.execute(
                "SELECT * FROM runs WHERE run_id LIKE ? ESCAPE '\\' "
                "ORDER BY started DESC, run_id DESC LIMIT 11",
                (pattern,),
            ).fetchall()
        if not rows:
            raise StateError(f"no run matches {prefix!r} (see 'opsforge runs list')")
        if len(rows) > 1:
            names = ", ".join(r["run_id"] for r in rows[:10])
            more = " and more" if len(rows) > 10 else ""
            raise StateError(f"run id {prefix!r} is ambiguous: it matches {names}{more}")
        return _row(self.state_dir, rows[0])

    def events(self, run_id: str) -> Iterator[dict[str, Any]]:
        """The recorded events of a run (id or unique prefix), oldest first.

        A truncated last line (the process died mid-write) is skipped; a bad line
        anywhere else raises :class:`StateError` with ``file:line``.
        """
        path = self.get(run_id).events_path
        return _read_events(path)


def _read_events(path: Path) -> Iterator[dict[str, Any]]:
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise StateError(f"run log {path} is missing") from None
    except OSError as exc:
        raise StateError(f"cannot read run log {path}: {exc.strerror or exc}") from None
    with handle:
        bad_line: int | None = None
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            if bad_line is not None:
                raise StateError(f"{path}:{bad_line}: corrupt run log line")
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                bad_line = number
                continue
            if not isinstance(event, dict):
                raise StateError(f"{path}:{number}: not an event object")
            yield event
