"""Assertions about processes on this machine: "nothing was left running"."""

from __future__ import annotations

import subprocess
import time

__all__ = ["processes_matching", "wait_gone"]


def processes_matching(pattern: str) -> list[str]:
    """``pgrep -af PATTERN`` lines (pgrep itself excluded): the processes whose command
    line matches ``pattern``."""
    found = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True, check=False)
    return [line for line in found.stdout.splitlines() if "pgrep" not in line]


def wait_gone(pattern: str, within: float = 5.0) -> list[str]:
    """Poll until no process matches ``pattern``; return what is still there at the end."""
    deadline = time.monotonic() + within
    while (left := processes_matching(pattern)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left
