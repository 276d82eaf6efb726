"""Helpers for connector tests: run a coroutine, wait for processes to vanish."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def arun(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def sleeper() -> tuple[str, list[str]]:
    """A command that leaves a background child, and the patterns identifying its processes."""
    n = uuid.uuid4().int % 10**6
    marker = f"MARKER-{uuid.uuid4().hex}"
    command = f"sh -c 'sleep 1000.{n} & sleep 1001.{n}; : {marker}'"
    return command, [f"sleep 1000.{n}", f"sleep 1001.{n}", marker]


def upload_started(directory: Path, name: str) -> bool:
    """A put's temp file for ``name`` exists in ``directory`` and has data in it."""
    return any(p.stat().st_size > 0 for p in directory.glob(f".{name}.opsforge-*"))


def assert_cancel_kills(run: Callable[[str], Awaitable[Any]], settle: float = 0.3) -> None:
    """Start ``run(command)`` of a command with a background child, cancel it after
    ``settle`` seconds: the cancellation propagates and none of its processes is left."""
    from opsforge.testing import wait_gone

    command, patterns = sleeper()

    async def main() -> None:
        task = asyncio.ensure_future(run(command))
        await asyncio.sleep(settle)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return
        raise AssertionError("the cancelled run returned instead of raising CancelledError")

    arun(main())
    for pattern in patterns:
        assert wait_gone(pattern) == [], pattern
