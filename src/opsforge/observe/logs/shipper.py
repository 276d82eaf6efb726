"""``opsforge logs ship``: read files into the spool, send the spool in batches.

Delivery is **at least once**. A line is first made durable in the spool (fsync)
and only then is its file position saved; a batch is sent and only then is the
spool cursor moved. A crash or an outage at any point therefore re-sends, never
skips: after a restart the lines since the last saved position are read again
and the batch in flight is sent again. Elasticsearch stores such a repeat once
(each record's ``_id`` comes from its file, inode and byte offset, and a
``create`` of an existing ``_id`` answers 409, counted as done); Loki drops an
entry identical in stream, timestamp and line to one it has.

Retries back off exponentially with full jitter (a random wait between 0 and
``min(cap, base * 2**attempt)``), and only the records that failed are sent
again. Records the target refuses for good go to ``dead-letter.ndjson`` in the
spool with the reason. When the target stays unreachable longer than
``max_wait`` seconds, :class:`~opsforge.observe.logs.sinks.ShipError` is raised
with everything still in the spool for the next run.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from opsforge.observe.logs.parsing import FormatChoice, choose_parser, parse_numbered
from opsforge.observe.logs.sinks import SendResult, ShipError, Sink, TargetBusy
from opsforge.observe.logs.sources import head
from opsforge.observe.logs.spool import Spool, line_id

__all__ = ["Backoff", "ShipStats", "Shipper"]


@dataclass
class ShipStats:
    """Counts of one run: lines buffered, records delivered, refused, requests retried."""

    buffered: int = 0
    delivered: int = 0
    dead_lettered: int = 0
    retries: int = 0


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter."""

    base: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap, self.base * 2**attempt))


def _numbered_lines(path: str, start: int) -> Iterator[tuple[int, str]]:
    """Complete lines of ``path`` from byte ``start``: (offset of the line, text)."""
    with open(path, "rb") as handle:
        handle.seek(start)
        offset = start
        for raw in handle:
            if not raw.endswith(b"\n"):
                return  # still being written: read it next time, whole
            yield offset, raw.rstrip(b"\r\n").decode("utf-8", "replace")
            offset += len(raw)


class Shipper:
    """Moves lines from files to a sink through a spool."""

    def __init__(
        self,
        spool: Spool,
        sink: Sink,
        *,
        fmt: str = "auto",
        batch: int = 500,
        max_wait: float = 300.0,
        backoff: Backoff | None = None,
        stop: threading.Event | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.spool = spool
        self.sink = sink
        self.fmt = fmt
        self.batch = batch
        self.max_wait = max_wait
        self.backoff = backoff or Backoff()
        self.stop = stop or threading.Event()
        self._sleep = sleep or self.stop.wait
        self.stats = ShipStats()
        self._rng = random.Random()
        self._choices: dict[str, FormatChoice] = {}

    # -- files to spool ------------------------------------------------------------

    def ingest(self, path: str) -> int:
        """Buffer the complete lines of ``path`` not buffered before; how many records."""
        try:
            stat = os.stat(path)
        except OSError:
            return 0
        saved = self.spool.sources.get(path, {})
        start = int(saved.get("offset", 0))
        if saved.get("inode") != stat.st_ino or stat.st_size < start:
            start = 0
        if stat.st_size == start:
            return 0
        choice = self._choices.get(path)
        if choice is None:
            choice = self._choices[path] = choose_parser(self.fmt, head(path, 50))
        total = 0
        lines = _numbered_lines(path, start)
        while True:
            chunk = list(islice(lines, 2000))
            if not chunk:
                break
            records = []
            for offset, record in parse_numbered(chunk, choice, source=path, original=True):
                record["log.offset"] = record.pop("log.file.line")
                record["_id"] = line_id(path, stat.st_ino, offset)
                records.append(record)
            end = self._end_of(path, chunk[-1][0])  # after the chunk's last line ending
            total += self.spool.append(records, {path: {"inode": stat.st_ino, "offset": end}})
        self.stats.buffered += total
        return total

    @staticmethod
    def _end_of(path: str, line_start: int) -> int:
        with open(path, "rb") as handle:
            handle.seek(line_start)
            return line_start + len(handle.readline())

    # -- spool to target -----------------------------------------------------------

    def drain(self) -> None:
        """Send everything in the spool; returns when it is empty or on stop."""
        while not self.stop.is_set():
            records, position = self.spool.read(self.batch)
            if not records:
                if position != self.spool.cursor:
                    self.spool.ack(position)
                return
            self._deliver(records)
            if self.stop.is_set():
                return
            self.spool.ack(position)

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        pending = records
        attempt = 0
        busy_since: float | None = None
        while pending and not self.stop.is_set():
            try:
                result: SendResult = self.sink.send(pending)
            except TargetBusy as exc:
                now = time.monotonic()
                busy_since = busy_since or now
                if now - busy_since > self.max_wait:
                    raise ShipError(
                        f"{exc}; gave up after {self.max_wait:.0f}s, "
                        f"the lines stay in the spool {self.spool.directory}"
                    ) from None
                self.stats.retries += 1
                self._sleep(self.backoff.delay(attempt, self._rng))
                attempt += 1
                continue
            busy_since = None
            self.stats.delivered += result.done
            if result.failed:
                self._dead_letter(result.failed)
            if result.retry:
                self.stats.retries += 1
                self._sleep(self.backoff.delay(attempt, self._rng))
                attempt += 1
            pending = result.retry

    def _dead_letter(self, failed: list[tuple[dict[str, Any], str]]) -> None:
        self.stats.dead_lettered += len(failed)
        with open(self.spool.directory / "dead-letter.ndjson", "a", encoding="utf-8") as out:
            for record, reason in failed:
                out.write(
                    json.dumps({"reason": reason, "record": record}, ensure_ascii=False) + "\n"
                )
