"""The run history database: one SQLite file, WAL mode, versioned schema.

``history.sqlite`` in the state directory holds one row per run in ``runs``. The
schema version lives in ``PRAGMA user_version``; an empty or missing file is
created at the current version. A file that is not a database, a database of a
newer schema, or one that cannot be written raises
:class:`~opsforge.errors.StateError` naming the file (never a traceback).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path

from opsforge.errors import StateError
from opsforge.state.paths import ensure_private_dir
from opsforge.types import HostStatus

__all__ = ["DB_NAME", "RUN_COLUMNS", "SCHEMA_VERSION", "STATUS_COLUMNS", "open_database"]

DB_NAME = "history.sqlite"
SCHEMA_VERSION = 1

#: One column per host status (``hosts_ok``, ``hosts_failed``, ...): how many hosts
#: of the run ended in it.
STATUS_COLUMNS: Mapping[HostStatus, str] = {
    status: f"hosts_{status.value}" for status in HostStatus
}

_STATUS_DDL = ",\n    ".join(
    f"{name} INTEGER NOT NULL DEFAULT 0" for name in STATUS_COLUMNS.values()
)

_SCHEMA_V1 = f"""
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    command TEXT NOT NULL,
    argv TEXT NOT NULL,              -- JSON list of strings
    started REAL NOT NULL,           -- epoch seconds
    ended REAL,                      -- NULL: still running, or the process died
    duration REAL,
    exit_code INTEGER,
    interrupted INTEGER NOT NULL DEFAULT 0,
    hosts_total INTEGER NOT NULL DEFAULT 0,
    {_STATUS_DDL},
    events_path TEXT NOT NULL        -- relative to the state directory
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started);
"""

RUN_COLUMNS: tuple[str, ...] = (
    "run_id",
    "command",
    "argv",
    "started",
    "ended",
    "duration",
    "exit_code",
    "interrupted",
    "hosts_total",
    *STATUS_COLUMNS.values(),
    "events_path",
)


def _create_private_file(path: Path) -> None:
    """Create an empty database file readable by its owner only (SQLite copies the mode)."""
    if path.exists():
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise StateError(
            f"run history database {path} has schema version {version}; this opsforge "
            f"understands up to {SCHEMA_VERSION} (upgrade opsforge or move the file away)"
        )
    if version < SCHEMA_VERSION:
        with conn:
            conn.executescript(_SCHEMA_V1)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@contextlib.contextmanager
def open_database(state_dir: Path) -> Iterator[sqlite3.Connection]:
    """A connection to ``<state_dir>/history.sqlite`` at the current schema.

    Commits when the block ends without error, always closes. Any SQLite or OS
    error becomes a :class:`StateError` naming the file.
    """
    ensure_private_dir(state_dir)
    path = state_dir / DB_NAME
    conn: sqlite3.Connection | None = None
    try:
        _create_private_file(path)
        conn = sqlite3.connect(path, timeout=10.0)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        _migrate(conn, path)
        with conn:
            yield conn
    except sqlite3.Error as exc:
        raise StateError(f"run history database {path} is unusable: {exc}") from exc
    except OSError as exc:
        raise StateError(f"run history database {path} is unusable: {exc.strerror or exc}") from exc
    finally:
        if conn is not None:
            conn.close()
