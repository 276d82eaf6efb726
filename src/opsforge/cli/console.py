"""The two consoles: people read stderr, machines read stdout."""

from __future__ import annotations

import os

from rich.console import Console

#: Progress, recaps, warnings and errors: for people.
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

#: Command output and JSON Lines: for pipes and machines.
out_console = Console(highlight=False, soft_wrap=True, no_color="NO_COLOR" in os.environ)
