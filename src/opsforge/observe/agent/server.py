"""The agent's HTTP endpoint: ``GET /metrics`` (text 0.0.4 or OpenMetrics, gzip when
asked), ``GET /`` (a link), ``GET /-/healthy``. Standard library only, one thread per
connection; every scrape is collected when it arrives."""

from __future__ import annotations

import gzip
import logging
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opsforge.observe.agent.agent import Agent
from opsforge.observe.agent.config import parse_listen
from opsforge.observe.agent.exposition import (
    OPENMETRICS_CONTENT_TYPE,
    TEXT_CONTENT_TYPE,
    negotiate,
)
from opsforge.observe.errors import ListenError

__all__ = ["MetricsServer", "make_server"]

logger = logging.getLogger("opsforge.observe.agent")

_INDEX = (
    b"<html><head><title>opsforge agent</title></head><body><h1>opsforge agent</h1>"
    b'<p><a href="/metrics">Metrics</a></p></body></html>\n'
)


class _Handler(BaseHTTPRequestHandler):
    server: MetricsServer
    protocol_version = "HTTP/1.1"
    server_version = "opsforge-agent"
    disable_nagle_algorithm = True  # headers and body leave at once (no delayed-ACK wait)
    timeout = 300  # an idle kept-alive connection is closed after this many seconds

    def log_message(self, format: str, *args: object) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str, gzipped: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            openmetrics = negotiate(self.headers.get("Accept"))
            try:
                body = self.server.agent.scrape(openmetrics=openmetrics)
            except Exception:  # a bug: answer 500, keep serving
                logger.exception("scrape failed")
                self._send(500, b"scrape failed\n", "text/plain; charset=utf-8")
                return
            encodings = self.headers.get("Accept-Encoding", "")
            gzipped = "gzip" in encodings
            if gzipped:
                body = gzip.compress(body, compresslevel=1)
            content_type = OPENMETRICS_CONTENT_TYPE if openmetrics else TEXT_CONTENT_TYPE
            self._send(200, body, content_type, gzipped)
        elif path == "/":
            self._send(200, _INDEX, "text/html; charset=utf-8")
        elif path == "/-/healthy":
            self._send(200, b"OK\n", "text/plain; charset=utf-8")
        else:
            self._send(404, b"not found\n", "text/plain; charset=utf-8")

    do_HEAD = do_GET


class MetricsServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], agent: Agent) -> None:
        self.agent = agent
        super().__init__(address, _Handler)


class _MetricsServer6(MetricsServer):
    address_family = socket.AF_INET6


def make_server(listen: str, agent: Agent) -> MetricsServer:
    """A bound server (not yet serving); :class:`ListenError` when it cannot listen."""
    try:
        host, port = parse_listen(listen)
    except ValueError as exc:
        raise ListenError(str(exc)) from None
    cls = _MetricsServer6 if ":" in host else MetricsServer
    try:
        return cls((host, port), agent)
    except OSError as exc:
        raise ListenError(f"cannot listen on {listen}: {exc.strerror or exc}") from None
