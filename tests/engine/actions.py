"""Small in-process actions for engine tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from opsforge.engine import StepContext

Action = Callable[[StepContext], Awaitable[None]]


def sleeper(delay: float = 0.0, log: list[str] | None = None) -> Action:
    """An action that sleeps and appends ``start:<id>`` / ``end:<id>`` to ``log``."""

    async def action(ctx: StepContext) -> None:
        if log is not None:
            log.append(f"start:{ctx.step.id}")
        await asyncio.sleep(delay)
        if log is not None:
            log.append(f"end:{ctx.step.id}")

    return action


def raiser(exc: BaseException) -> Action:
    async def action(ctx: StepContext) -> None:
        raise exc

    return action
