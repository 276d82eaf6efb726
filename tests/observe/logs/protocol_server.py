"""A loopback HTTP server that enforces the Elasticsearch bulk and Loki push protocols.

No Elasticsearch or Loki can be installed here, so shipping is tested against this
server, written for the tests from the documented protocols. It is strict where
the real servers are strict, and can be told to misbehave the way they do:

* ``_bulk``: POST only; ``Content-Type: application/x-ndjson`` (else 406); the
  body must end with a newline (else 400); lines come in pairs, an action with
  exactly one of create/index/update/delete and a JSON-object document (else
  400). ``create`` of an existing ``_id`` is item 409. Answers ``took``,
  ``errors`` and one item per action, in order.
* ``/loki/api/v1/push``: POST; ``Content-Type: application/json``; gzip when
  ``Content-Encoding: gzip`` says so (a body that is not gzip: 400); ``streams``
  with string labels named like Prometheus labels (at most 15), values
  ``[nanosecond string, line]`` in time order within a stream (else 400);
  204 on success; identical entries are stored once, as Loki does.
* misbehaviour: ``outage`` (every request 503), ``throttle`` (the next N
  requests 429), ``item_429`` (a share of bulk items answer 429 the first time
  their ``_id`` is seen), ``poison`` (documents whose message holds this text
  answer item 400, a mapping error), ``delay`` (seconds before answering).
"""

from __future__ import annotations

import gzip
import json
import random
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


class ProtocolServer:
    """Start with :meth:`start`, stop with :meth:`stop`; state is inspectable."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.lock = threading.Lock()
        self.docs: dict[str, dict[str, Any]] = {}
        self.creates_per_id: Counter[str] = Counter()
        self.loki: set[tuple[tuple[tuple[str, str], ...], str, str]] = set()
        self.requests: list[tuple[str, int]] = []
        self.outage = False
        self.throttle = 0
        self.item_429 = 0.0
        self.poison = ""
        self.delay = 0.0
        self._seen_429: set[str] = set()
        self._rng = random.Random(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ProtocolServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                status, payload, ctype = owner.handle(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self.send_response(405)
                self.send_header("Content-Length", "0")
                self.end_headers()

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- protocol ------------------------------------------------------------------

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            if self.outage:
                return self._log(path, 503, b'{"error":"unavailable"}')
            if self.throttle > 0:
                self.throttle -= 1
                return self._log(path, 429, b'{"error":"too many requests"}')
            lowered = {k.lower(): v for k, v in headers.items()}
            if re.fullmatch(r"/(?:[^/]+/)?_bulk", path):
                return self._bulk(path, lowered, body)
            if path == "/loki/api/v1/push":
                return self._push(path, lowered, body)
            return self._log(path, 404, b'{"error":"no such endpoint"}')

    def _log(
        self, path: str, status: int, payload: bytes, ctype: str = "application/json"
    ) -> tuple[int, bytes, str]:
        self.requests.append((path, status))
        return status, payload, ctype

    def _bulk(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
        if not headers.get("content-type", "").startswith("application/x-ndjson"):
            return self._log(path, 406, b'{"error":"Content-Type header is not supported"}')
        if not body.endswith(b"\n"):
            return self._log(
                path, 400, b'{"error":"The bulk request must be terminated by a newline"}'
            )
        lines = body.decode("utf-8").split("\n")[:-1]
        if len(lines) % 2:
            return self._log(path, 400, b'{"error":"action without a document"}')
        items = []
        errors = False
        for action_line, doc_line in zip(lines[::2], lines[1::2], strict=True):
            try:
                action = json.loads(action_line)
                doc = json.loads(doc_line)
            except ValueError:
                return self._log(path, 400, b'{"error":"parse_exception"}')
            if not isinstance(action, dict) or len(action) != 1 or not isinstance(doc, dict):
                return self._log(path, 400, b'{"error":"malformed action/document"}')
            ((kind, meta),) = action.items()
            if kind not in ("create", "index", "update", "delete") or "_index" not in meta:
                return self._log(path, 400, b'{"error":"unknown action"}')
            status = self._item(meta.get("_id", ""), doc)
            errors = errors or status >= 300
            items.append(
                {kind: {"_index": meta["_index"], "_id": meta.get("_id"), "status": status}}
            )
        payload = json.dumps({"took": 1, "errors": errors, "items": items}).encode()
        return self._log(path, 200, payload)

    def _item(self, doc_id: str, doc: dict[str, Any]) -> int:
        if self.poison and self.poison in str(doc.get("message", "")):
            return 400
        if self.item_429 and doc_id not in self._seen_429 and self._rng.random() < self.item_429:
            self._seen_429.add(doc_id)
            return 429
        self._seen_429.add(doc_id)
        if doc_id in self.docs:
            return 409
        self.docs[doc_id] = doc
        self.creates_per_id[doc_id] += 1
        return 201

    def _push(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
        if not headers.get("content-type", "").startswith("application/json"):
            return self._log(path, 415, b"unsupported content type", "text/plain")
        if headers.get("content-encoding") == "gzip":
            try:
                body = gzip.decompress(body)
            except OSError:
                return self._log(path, 400, b"body is not gzip", "text/plain")
        try:
            streams = json.loads(body)["streams"]
            entries = []
            for stream in streams:
                labels = stream["stream"]
                if len(labels) > 15 or not all(
                    _LABEL.fullmatch(k) and isinstance(v, str) for k, v in labels.items()
                ):
                    return self._log(path, 400, b"bad labels", "text/plain")
                previous = -1
                for ts, line in stream["values"]:
                    if not (isinstance(ts, str) and ts.isdigit() and isinstance(line, str)):
                        return self._log(path, 400, b"bad entry", "text/plain")
                    if int(ts) < previous:
                        return self._log(path, 400, b"entry out of order", "text/plain")
                    previous = int(ts)
                    entries.append((tuple(sorted(labels.items())), ts, line))
        except (ValueError, KeyError, TypeError, AttributeError):
            return self._log(path, 400, b"malformed push body", "text/plain")
        self.loki.update(entries)
        return self._log(path, 204, b"", "text/plain")
