"""Flushing a stream a little later, once, instead of after every line.

A verbose command produces an event per line; writing each to a file or pipe at once
costs a system call per line. :class:`DeferredFlush` calls its ``flush`` once, a fixed
delay after the first unflushed write, on the running event loop (at once when there is
none): whatever was written meanwhile goes out in one write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["DeferredFlush"]


class DeferredFlush:
    """``soon()`` after a write; ``now()`` where order or durability matters."""

    def __init__(self, flush: Callable[[], None], delay: float) -> None:
        self._flush = flush
        self.delay = delay
        self._pending = False

    def soon(self) -> None:
        if self._pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # outside an event loop: at once
            self.now()
            return
        self._pending = True
        loop.call_later(self.delay, self.now)

    def now(self) -> None:
        self._pending = False
        self._flush()
