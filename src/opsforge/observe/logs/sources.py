"""Reading log files: paths or ``-`` (stdin), any bytes, clear errors.

Lines are decoded as UTF-8 with invalid bytes replaced (a log is never refused
for one bad byte) and returned without their line ending. A missing file, a
directory or an unreadable file raises :class:`~opsforge.errors.InputError`
naming it before anything is read.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator, Sequence
from itertools import islice

from opsforge.errors import InputError

__all__ = ["check_readable", "head", "read_lines"]


def check_readable(paths: Sequence[str]) -> None:
    """Raise ``InputError`` for the first path that cannot be read as a file."""
    for path in paths:
        if path == "-":
            continue
        if not os.path.exists(path):
            raise InputError("no such file", path=path)
        if os.path.isdir(path):
            raise InputError("is a directory, not a log file", path=path)
        if not os.access(path, os.R_OK):
            raise InputError("permission denied", path=path)


def _open(path: str) -> io.TextIOBase:
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    try:
        return open(path, encoding="utf-8", errors="replace", newline="")
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), path=path) from None


def read_lines(path: str) -> Iterator[str]:
    """The lines of ``path`` without line endings (``\\r\\n``, ``\\n`` or ``\\r``)."""
    stream = _open(path)
    try:
        for line in stream:
            yield line.rstrip("\r\n")
    finally:
        if path != "-":
            stream.close()


def head(path: str, count: int) -> list[str]:
    """The first ``count`` lines of a file (not of stdin, which cannot be re-read)."""
    if path == "-":
        return []
    return list(islice(read_lines(path), count))
