"""The two consoles: people read stderr, machines read stdout."""

from __future__ import annotations

import os
import sys

from rich.console import Console

#: Wide enough that tables written to a pipe or a log file are not cut at 80 columns.
PIPE_WIDTH = 200


def _width(stream_is_tty: bool) -> int | None:
    if stream_is_tty or "COLUMNS" in os.environ:
        return None
    return PIPE_WIDTH


#: Progress, recaps, warnings and errors: for people.
err_console = Console(
    stderr=True, highlight=False, soft_wrap=True, width=_width(sys.stderr.isatty())
)

#: Command output and JSON Lines: for pipes and machines.
out_console = Console(highlight=False, soft_wrap=True, width=_width(sys.stdout.isatty()))
