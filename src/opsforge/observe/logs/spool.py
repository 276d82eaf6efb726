"""The disk buffer of ``opsforge logs ship``: nothing read is lost to an outage or a restart.

A spool is a directory:

* ``segment-NNNNNNNN.ndjson``: records waiting to be sent, one JSON object a line,
  appended and fsync'ed before the source position moves on;
* ``cursor.json``: how far the target has acknowledged (segment, byte offset);
* ``sources.json``: for each source file, its inode and the byte offset read up
  to, so a restart continues where the last run stopped (a file that was
  replaced, a new inode, is read from its start again; one that shrank too).

Small JSON state files are replaced atomically (write, fsync, rename). Each
record carries ``_id``, derived from its source file, inode and byte offset, so
a line buffered twice (a crash between the buffer write and the source position
update) keeps one id and Elasticsearch stores it once.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opsforge.errors import StateError

__all__ = ["Position", "Spool", "line_id"]

_SEGMENT_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, order=True)
class Position:
    """A place in the spool: segment number and byte offset in it."""

    segment: int
    offset: int


def line_id(path: str, inode: int, offset: int) -> str:
    """A stable id for the line starting at ``offset`` of ``path`` (inode ``inode``)."""
    return hashlib.sha1(f"{path}\0{inode}\0{offset}".encode()).hexdigest()[:24]


def _write_json(path: Path, value: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(value, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def _read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise StateError(f"spool file {path} is unreadable: {exc}") from None


class Spool:
    """Append records, read batches from the acknowledged cursor, acknowledge them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create spool {directory}: {exc.strerror or exc}") from None
        cursor = _read_json(directory / "cursor.json", {"segment": 1, "offset": 0})
        self.cursor = Position(int(cursor["segment"]), int(cursor["offset"]))
        self.sources: dict[str, dict[str, int]] = _read_json(directory / "sources.json", {})
        segments = self._segments()
        self._tail = max(segments[-1] if segments else 1, self.cursor.segment)

    def _segment_path(self, number: int) -> Path:
        return self.directory / f"segment-{number:08d}.ndjson"

    def _segments(self) -> list[int]:
        found = []
        for path in self.directory.glob("segment-*.ndjson"):
            try:
                found.append(int(path.stem.split("-", 1)[1]))
            except ValueError:
                continue
        return sorted(found)

    # -- writing -----------------------------------------------------------------

    def append(self, records: Iterable[dict[str, Any]], sources: dict[str, dict[str, int]]) -> int:
        """Buffer ``records`` durably, then record the source positions; how many."""
        data = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
        if data:
            path = self._segment_path(self._tail)
            if path.exists() and path.stat().st_size >= _SEGMENT_BYTES:
                self._tail += 1
                path = self._segment_path(self._tail)
            with open(path, "a", encoding="utf-8") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        self.sources.update(sources)
        _write_json(self.directory / "sources.json", self.sources)
        return data.count("\n")

    # -- reading -------------------------------------------------------------------

    def read(self, limit: int) -> tuple[list[dict[str, Any]], Position]:
        """Up to ``limit`` records from the cursor, and the position after them."""
        records: list[dict[str, Any]] = []
        position = self.cursor
        while len(records) < limit and position.segment <= self._tail:
            path = self._segment_path(position.segment)
            try:
                handle = open(path, "rb")  # noqa: SIM115 - closed below
            except FileNotFoundError:
                if position.segment >= self._tail:
                    break
                position = Position(position.segment + 1, 0)
                continue
            with handle:
                handle.seek(position.offset)
                offset = position.offset
                for raw in handle:
                    if not raw.endswith(b"\n"):
                        break  # a torn last line: not written completely
                    offset += len(raw)
                    try:
                        records.append(json.loads(raw))
                    except ValueError:
                        continue  # a damaged line is skipped, not resent forever
                    if len(records) >= limit:
                        break
            if len(records) < limit and position.segment < self._tail:
                position = Position(position.segment + 1, 0)
                continue
            position = Position(position.segment, offset)
            break
        return records, position

    def ack(self, position: Position) -> None:
        """The target has everything before ``position``: move the cursor, drop old segments."""
        self.cursor = position
        _write_json(
            self.directory / "cursor.json", {"segment": position.segment, "offset": position.offset}
        )
        for number in self._segments():
            if number < position.segment:
                self._segment_path(number).unlink(missing_ok=True)

    def pending(self) -> bool:
        """True when records wait in the spool."""
        records, _ = self.read(1)
        return bool(records)
