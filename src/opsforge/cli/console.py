"""The two consoles: people read stderr, machines read stdout.

Both are made (and rich imported) on first use: a command whose output goes to a
pipe and never needs rich (``pipeline run`` in CI) does not pay for importing it.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["PIPE_WIDTH", "err_console", "escape", "out_console", "real_console"]

#: Wide enough that tables written to a pipe or a log file are not cut at 80 columns.
PIPE_WIDTH = 200


def _width(stream_is_tty: bool) -> int | None:
    if stream_is_tty or "COLUMNS" in os.environ:
        return None
    return PIPE_WIDTH


class _LazyConsole:
    """Stands for a rich ``Console`` made on first attribute access."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def _make(self) -> Console:
        if self._console is None:
            from rich.console import Console

            stream = sys.stderr if self._stderr else sys.stdout
            self._console = Console(
                stderr=self._stderr,
                highlight=False,
                soft_wrap=True,
                width=_width(stream.isatty()),
            )
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self._make(), name)

    # special methods bypass __getattr__; rich uses its console as a context manager
    def __enter__(self) -> Console:
        return self._make().__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._make().__exit__(*exc)


def real_console(console: Console) -> Console:
    """The rich ``Console`` itself behind one of the lazy consoles (made now), for code
    that hands it to rich (``Live``) or compares it by identity."""
    return console._make() if isinstance(console, _LazyConsole) else console


#: Progress, recaps, warnings and errors: for people.
err_console = cast("Console", _LazyConsole(stderr=True))

#: Command output and JSON Lines: for pipes and machines.
out_console = cast("Console", _LazyConsole(stderr=False))


def escape(text: str) -> str:
    """``text`` with rich markup escaped (rich imported only when called)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)
