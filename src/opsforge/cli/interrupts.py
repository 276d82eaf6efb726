"""Ctrl-C and SIGTERM during a run: the first stops it cleanly, the second quits at once."""

from __future__ import annotations

import asyncio
import signal

from opsforge.cli.console import err_console
from opsforge.engine import Executor

__all__ = ["SignalInterrupts"]


class SignalInterrupts:
    """An executor hook: the first Ctrl-C (or SIGTERM) cancels the run, saying ``what`` it
    stops; the second quits at once. :meth:`remove` takes the handlers off the loop."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.presses = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    def __call__(self, executor: Executor) -> None:
        def interrupt() -> None:
            self.presses += 1
            if self.presses == 1:
                err_console.print(
                    f"[yellow]interrupt: {self.what} (press Ctrl-C again to quit at once)[/yellow]"
                )
                executor.cancel()
            else:
                raise KeyboardInterrupt

        self._loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._loop.add_signal_handler(sig, interrupt)

    def remove(self) -> None:
        if self._loop is not None:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._loop.remove_signal_handler(sig)
            self._loop = None
