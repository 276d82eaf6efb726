"""Which alert notifications were already handled: de-duplication by fingerprint.

Alertmanager repeats a firing alert every ``repeat_interval`` and re-sends a group's
alerts whenever the group changes. One alert *occurrence* is its fingerprint plus
``startsAt``; it is handled once when it fires and once when it resolves. The ledger
(``alerts.sqlite`` in the state directory, next to the run history) remembers each
(fingerprint, startsAt, status) with the run that recorded it, across restarts.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from opsforge.errors import StateError
from opsforge.observe.alerts.payload import Alert
from opsforge.state.paths import ensure_private_dir

__all__ = ["LEDGER_NAME", "AlertLedger"]

LEDGER_NAME = "alerts.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS handled (
    fingerprint TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    status TEXT NOT NULL,
    alertname TEXT NOT NULL,
    received REAL NOT NULL,
    run_id TEXT,
    PRIMARY KEY (fingerprint, starts_at, status)
);
"""


class AlertLedger:
    def __init__(self, state_dir: Path) -> None:
        ensure_private_dir(state_dir)
        self.path = state_dir / LEDGER_NAME
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StateError(f"alert ledger {self.path}: {exc}") from None

    def claim(self, alert: Alert) -> bool:
        """True the first time this occurrence and status is seen (and record it)."""
        with self._lock:
            try:
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO handled "
                    "(fingerprint, starts_at, status, alertname, received) VALUES (?, ?, ?, ?, ?)",
                    (alert.fingerprint, alert.starts_at, alert.status, alert.name, time.time()),
                )
            except sqlite3.Error as exc:
                raise StateError(f"alert ledger {self.path}: {exc}") from None
            return cursor.rowcount == 1

    def set_run(self, alert: Alert, run_id: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE handled SET run_id = ? WHERE fingerprint = ? AND starts_at = ? "
                "AND status = ?",
                (run_id, alert.fingerprint, alert.starts_at, alert.status),
            )

    def run_of(self, alert: Alert) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT run_id FROM handled WHERE fingerprint = ? AND starts_at = ? AND status = ?",
                (alert.fingerprint, alert.starts_at, alert.status),
            ).fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
