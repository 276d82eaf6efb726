"""Following files as they grow (``tail -F``): appended lines, rotation, truncation.

:func:`follow` polls each file every ``interval`` seconds. It starts at the end
(only new lines) unless ``from_start``; a file that is replaced (new inode, as
logrotate does) is reopened and read from its start, a file that shrinks
(truncated in place) is read again from its start, and a file that does not
exist yet is waited for. A partial last line is held until its newline arrives.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

__all__ = ["follow"]


@dataclass
class _Followed:
    path: str
    handle: BinaryIO | None = None
    inode: int | None = None
    offset: int = 0
    partial: bytes = b""


def _open(state: _Followed, at_end: bool) -> None:
    try:
        handle = open(state.path, "rb")  # noqa: SIM115 - kept open across polls
    except OSError:
        return
    stat = os.fstat(handle.fileno())
    state.handle, state.inode = handle, stat.st_ino
    state.offset = stat.st_size if at_end else 0
    state.partial = b""
    handle.seek(state.offset)


def _read(state: _Followed) -> Iterator[str]:
    handle = state.handle
    assert handle is not None
    data = handle.read()
    if not data:
        return
    state.offset += len(data)
    chunks = (state.partial + data).split(b"\n")
    state.partial = chunks.pop()
    for chunk in chunks:
        yield chunk.rstrip(b"\r").decode("utf-8", "replace")


def follow(
    paths: Sequence[str],
    *,
    from_start: bool = False,
    interval: float = 0.5,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[tuple[str, str | None]]:
    """``(path, line)`` for every line appended to ``paths`` until ``stop()`` is true,
    and ``("", None)`` after each poll (a heartbeat: time passes without lines)."""
    states = [_Followed(path) for path in paths]
    for state in states:
        _open(state, at_end=not from_start)
    while not stop():
        for state in states:
            if state.handle is None:
                _open(state, at_end=False)
                if state.handle is None:
                    continue
            yield from ((state.path, line) for line in _read(state))
            try:
                current = os.stat(state.path)
            except OSError:
                continue
            if current.st_ino != state.inode or current.st_size < state.offset:
                yield from ((state.path, line) for line in _read(state))
                state.handle.close()
                _open(state, at_end=False)
        yield "", None
        time.sleep(interval)
    for state in states:
        if state.handle is not None:
            state.handle.close()
