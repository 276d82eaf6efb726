"""Mined templates kept in SQLite, so a later run continues with the same ids.

One file (``logmine.sqlite`` in the state directory by default) with two
tables: ``templates`` (id, text, count, first/last seen, examples as JSON) and
``aliases`` (an id merged into another id). Saving replaces both tables in one
transaction: a crash leaves the previous state, never half of a new one. A file
that is not such a database raises :class:`~opsforge.errors.StateError` naming it.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from opsforge.errors import StateError
from opsforge.observe.logs.miner import Template, TemplateMiner

__all__ = ["STORE_NAME", "TemplateStore"]

STORE_NAME = "logmine.sqlite"
_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS templates (
    id INTEGER PRIMARY KEY,
    template TEXT NOT NULL,
    count INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    examples TEXT NOT NULL              -- JSON list of raw lines
);
CREATE TABLE IF NOT EXISTS aliases (
    id INTEGER PRIMARY KEY,             -- an id that was merged ...
    target INTEGER NOT NULL             -- ... into this one
);
"""


class TemplateStore:
    """Loads a miner's templates from, and saves them to, one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path)
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"cannot open template store {self.path}: {exc}") from None
        try:
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version > _VERSION:
                raise StateError(
                    f"template store {self.path} has schema {version}, newer than this "
                    f"opsforge ({_VERSION})"
                )
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {_VERSION}")
            yield conn
        except sqlite3.Error as exc:
            raise StateError(f"template store {self.path}: {exc}") from None
        finally:
            conn.close()

    def load(self, miner: TemplateMiner) -> int:
        """Give ``miner`` the saved templates; how many there were."""
        if not self.path.exists():
            return 0
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT id, template, count, first_seen, last_seen, examples FROM templates"
            ).fetchall()
            aliases = dict(conn.execute("SELECT id, target FROM aliases").fetchall())
        templates = []
        for template_id, text, count, first, last, examples in rows:
            try:
                example_list = [str(e) for e in json.loads(examples)]
            except (ValueError, TypeError):
                example_list = []
            templates.append(Template(template_id, text.split(), count, first, last, example_list))
        miner.load(templates, aliases)
        return len(templates)

    def save(self, miner: TemplateMiner) -> None:
        """Replace the saved state by the miner's, atomically."""
        with self._connect() as conn, conn:
            conn.execute("DELETE FROM templates")
            conn.execute("DELETE FROM aliases")
            conn.executemany(
                "INSERT INTO templates VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (t.id, t.text, t.count, t.first_seen, t.last_seen, json.dumps(t.examples))
                    for t in miner.templates.values()
                ],
            )
            conn.executemany("INSERT INTO aliases VALUES (?, ?)", miner.aliases.items())
