"""A private asyncio loop in a daemon thread, so the sync API works anywhere.

The sync :class:`~opsforge.Connection` and :class:`~opsforge.Group` submit their
coroutines here. It works the same from plain scripts and from code that already
runs an event loop (Jupyter, a web handler). Ctrl-C while waiting cancels the
coroutine — which stops the remote command — and then re-raises.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _get_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="opsforge-loop", daemon=True)
            thread.start()
            _loop = loop
        return _loop


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the private loop and wait for its result."""
    future = asyncio.run_coroutine_threadsafe(coro, _get_loop())
    try:
        return future.result()
    except KeyboardInterrupt:
        future.cancel()
        with contextlib.suppress(
            concurrent.futures.CancelledError, concurrent.futures.TimeoutError, Exception
        ):
            future.result(timeout=10)
        raise
