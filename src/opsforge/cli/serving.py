"""Long-running servers of the CLI (agent, alert receiver): serve until SIGTERM or Ctrl-C."""

from __future__ import annotations

import signal
import socketserver
import threading
from collections.abc import Callable
from types import FrameType

__all__ = ["serve_until_stopped", "stop_on_sigterm"]


def stop_on_sigterm() -> threading.Event:
    """An event set by SIGTERM (Ctrl-C still raises KeyboardInterrupt: exit code 130)."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    return stop


def serve_until_stopped(
    server: socketserver.BaseServer,
    name: str,
    work: Callable[[threading.Event], None] | None = None,
) -> None:
    """Serve ``server`` in a thread; run ``work(stop)`` (else wait) until stopped; then shut
    the server down and close its socket."""
    stop = stop_on_sigterm()
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        if work is not None:
            work(stop)
        else:
            while not stop.wait(3600):
                pass
    finally:
        server.shutdown()
        server.server_close()
