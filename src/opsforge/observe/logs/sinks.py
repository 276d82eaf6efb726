"""Where ``opsforge logs ship`` sends records: Elasticsearch ``_bulk`` and Loki push.

Both speak plain HTTP through the standard library. A sink's :meth:`send`
returns what to do with each record of a batch: done, retry (only those), or
failed for good (the target refused the record itself: it goes to the spool's
dead-letter file instead of blocking everything behind it). A whole request the
target cannot take now (connection refused, timeout, 429, 502/503/504) raises
:class:`TargetBusy`; one that can never succeed (401/403/404, a bad URL)
raises :class:`ShipError`.

Elasticsearch: ``POST {url}/_bulk``, ``Content-Type: application/x-ndjson``, one
``{"create": {"_index": ..., "_id": ...}}`` line and one document line per
record, a trailing newline. The response's ``errors`` flag and every item's
status are checked: 200/201 done, 409 (that ``_id`` exists: sent before) done,
429 and 5xx retried, other 4xx failed.

Loki: ``POST {url}/loki/api/v1/push``, JSON, gzip. Labels are few and bounded
(``job``, ``host``, ``level``, ``filename`` plus any given with ``--label``);
the line is the original log line; values are sorted by time per stream.
"""

from __future__ import annotations

import gzip
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from opsforge.errors import ConnectError
from opsforge.observe.logs.anomalies import parse_time

__all__ = ["ElasticsearchSink", "LokiSink", "SendResult", "ShipError", "Sink", "TargetBusy"]


class ShipError(ConnectError):
    """The target refuses the requests themselves (auth, URL, protocol): retrying will not help."""


class TargetBusy(Exception):
    """The target cannot take the request now (down, overloaded); retry later."""


@dataclass
class SendResult:
    """The outcome per record of one batch."""

    done: int = 0
    retry: list[dict[str, Any]] = field(default_factory=list)
    failed: list[tuple[dict[str, Any], str]] = field(default_factory=list)


class Sink:
    """One target; ``send`` a batch, get a :class:`SendResult`."""

    name = "sink"

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def send(self, records: list[dict[str, Any]]) -> SendResult:
        raise NotImplementedError

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            if exc.code in (429, 502, 503, 504):
                raise TargetBusy(f"{self.name} answered {exc.code}") from None
            raise ShipError(
                f"{self.name} at {self.url} refused the request: HTTP {exc.code} "
                f"{payload[:300].decode('utf-8', 'replace')}"
            ) from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, ValueError | urllib.error.URLError) and "unknown url type" in str(
                reason
            ):
                raise ShipError(f"bad URL {self.url}: {reason}") from None
            raise TargetBusy(f"{self.name} at {self.url} unreachable: {reason}") from None


class ElasticsearchSink(Sink):
    """The ``_bulk`` API with ``create`` actions (works for indices and data streams)."""

    name = "elasticsearch"

    def __init__(self, url: str, index: str, *, timeout: float = 30.0) -> None:
        super().__init__(url, timeout=timeout)
        self.index = index

    def encode(self, records: list[dict[str, Any]]) -> bytes:
        lines = []
        for record in records:
            doc = {k: v for k, v in record.items() if k != "_id"}
            action = {"create": {"_index": self.index, "_id": record["_id"]}}
            lines.append(json.dumps(action))
            lines.append(json.dumps(doc, ensure_ascii=False))
        return ("\n".join(lines) + "\n").encode()

    def send(self, records: list[dict[str, Any]]) -> SendResult:
        status, payload = self._post(
            "/_bulk", self.encode(records), {"Content-Type": "application/x-ndjson"}
        )
        try:
            answer = json.loads(payload)
            items = answer["items"]
        except (ValueError, KeyError, TypeError):
            raise TargetBusy(f"elasticsearch answered {status} without bulk items") from None
        if len(items) != len(records):
            raise TargetBusy(f"elasticsearch answered {len(items)} items for {len(records)}")
        result = SendResult()
        if not answer.get("errors"):
            result.done = len(records)
            return result
        for record, item in zip(records, items, strict=True):
            outcome: dict[str, Any] = (
                next(iter(item.values()), {}) if isinstance(item, dict) else {}
            )
            code = int(outcome.get("status", 500))
            if code in (200, 201, 409):
                result.done += 1
            elif code == 429 or code >= 500:
                result.retry.append(record)
            else:
                error = outcome.get("error", {})
                reason = error.get("reason", "") if isinstance(error, dict) else str(error)
                result.failed.append((record, f"HTTP {code}: {reason}"))
        return result


class LokiSink(Sink):
    """The push API (JSON, gzip), streams keyed by a few bounded labels."""

    name = "loki"

    def __init__(self, url: str, labels: dict[str, str], *, timeout: float = 30.0) -> None:
        super().__init__(url, timeout=timeout)
        self.labels = {"job": "opsforge", **labels}

    def stream_labels(self, record: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        labels = dict(self.labels)
        if record.get("host.name"):
            labels["host"] = str(record["host.name"])[:100]
        level = str(record.get("log.level", "")).lower()
        labels["level"] = level[:20] if level else "unknown"
        if record.get("log.file.path"):
            labels["filename"] = str(record["log.file.path"])[:200]
        return tuple(sorted(labels.items()))

    def encode(self, records: list[dict[str, Any]]) -> bytes:
        streams: dict[tuple[tuple[str, str], ...], list[tuple[int, str]]] = {}
        for record in records:
            seconds = parse_time(str(record.get("@timestamp", ""))) or time.time()
            line = str(record.get("event.original") or record.get("message", ""))
            streams.setdefault(self.stream_labels(record), []).append((int(seconds * 1e9), line))
        body = {
            "streams": [
                {"stream": dict(labels), "values": [[str(ns), line] for ns, line in sorted(values)]}
                for labels, values in streams.items()
            ]
        }
        return gzip.compress(json.dumps(body, ensure_ascii=False).encode())

    def send(self, records: list[dict[str, Any]]) -> SendResult:
        self._post(
            "/loki/api/v1/push",
            self.encode(records),
            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        return SendResult(done=len(records))
