"""Running one step: attempts, per-attempt timeout, retries with backoff, error boundary.

Exceptions raised by an action become statuses here (the error boundary):

====================================  =====================  ===========================
exception                             status                 result / message
====================================  =====================  ===========================
``UnreachableError`` (other           UNREACHABLE            message
``ConnectError``, not Become)
``AuthError``                         AUTH_FAILED            message
``HostKeyError``                      HOST_KEY_MISMATCH      message
``BecomeError``                       FAILED                 message
``CommandTimeout``                    TIMED_OUT              its partial Result
step ``timeout`` / ``TimeoutError``   TIMED_OUT              "timed out after Ns"
``CommandFailed`` / ``CommandError``  FAILED                 its Result
other ``OpsforgeError``               FAILED                 message
any other ``Exception``               FAILED                 "internal error in step X:
                                                             Type: msg" + traceback
====================================  =====================  ===========================

``KeyboardInterrupt``, ``SystemExit`` and ``asyncio.CancelledError`` are never
caught. FAILED, TIMED_OUT and UNREACHABLE attempts are retried (``Step.retries``);
AUTH_FAILED and HOST_KEY_MISMATCH are not, since repeating cannot help.
"""

from __future__ import annotations

import asyncio
import random
import traceback
from collections.abc import Callable

from opsforge.engine.context import StepContext, StepOutcome
from opsforge.engine.events import Event, StepRetrying, StepStarted
from opsforge.engine.plan import Step
from opsforge.errors import (
    AuthError,
    BecomeError,
    CommandError,
    CommandTimeout,
    ConnectError,
    HostKeyError,
    OpsforgeError,
)
from opsforge.types import HostStatus

__all__ = ["MAX_RETRY_DELAY", "RETRYABLE", "StepRunner", "backoff_delay", "outcome_for_exception"]

#: Upper bound of one wait between attempts, in seconds (before jitter).
MAX_RETRY_DELAY = 60.0
#: Jitter: each wait is stretched by a random factor in [1, 1 + JITTER].
JITTER = 0.1
#: Attempt statuses that are worth another attempt.
RETRYABLE = frozenset({HostStatus.FAILED, HostStatus.TIMED_OUT, HostStatus.UNREACHABLE})


def backoff_delay(base: float, attempt: int) -> float:
    """Wait after failed attempt ``attempt`` (1-based).

    ``base * 2**(attempt-1)``, capped at :data:`MAX_RETRY_DELAY`, plus up to 10% jitter.
    """
    delay: float = min(base * 2.0 ** (attempt - 1), MAX_RETRY_DELAY)
    return delay * (1.0 + random.uniform(0.0, JITTER))


def outcome_for_exception(step: Step, exc: Exception) -> tuple[StepOutcome, str | None]:
    """Map an exception from a step's action to an outcome (and a traceback for bugs)."""
    if isinstance(exc, BecomeError):
        return StepOutcome(HostStatus.FAILED, message=str(exc)), None
    if isinstance(exc, AuthError):
        return StepOutcome(HostStatus.AUTH_FAILED, message=str(exc)), None
    if isinstance(exc, HostKeyError):
        return StepOutcome(HostStatus.HOST_KEY_MISMATCH, message=str(exc)), None
    if isinstance(exc, ConnectError):
        return StepOutcome(HostStatus.UNREACHABLE, message=str(exc)), None
    if isinstance(exc, CommandTimeout):
        return StepOutcome(HostStatus.TIMED_OUT, exc.result, str(exc)), None
    if isinstance(exc, CommandError):
        return StepOutcome(HostStatus.FAILED, exc.result, str(exc)), None
    if isinstance(exc, OpsforgeError):
        return StepOutcome(HostStatus.FAILED, message=str(exc)), None
    if isinstance(exc, TimeoutError):
        return StepOutcome(HostStatus.TIMED_OUT, message=f"timed out: {exc}".rstrip(": ")), None
    message = f"internal error in step {step.id}: {type(exc).__name__}: {exc}"
    return StepOutcome(HostStatus.FAILED, message=message), "".join(traceback.format_exception(exc))


class StepRunner:
    """Runs every attempt of one step and reports the final outcome.

    :attr:`attempts` is kept current, so whoever cancels the task can still tell
    how many attempts were made.
    """

    def __init__(
        self,
        step: Step,
        *,
        run_id: str,
        emit: Callable[[Event], None],
        is_cancelled: Callable[[], bool],
    ) -> None:
        self.step = step
        self.run_id = run_id
        self.attempts = 0
        self._emit = emit
        self._is_cancelled = is_cancelled

    async def run(self) -> tuple[StepOutcome, str | None]:
        """Attempt until success, a non-retryable status, or retries are used up."""
        step = self.step
        while True:
            self.attempts += 1
            attempt = self.attempts
            self._emit(
                StepStarted(
                    run_id=self.run_id,
                    host=step.host,
                    step_id=step.id,
                    description=step.label,
                    attempt=attempt,
                )
            )
            outcome, tb = await self._attempt(attempt)
            if outcome.status not in RETRYABLE or attempt > step.retries or self._is_cancelled():
                return outcome, tb
            delay = backoff_delay(step.retry_delay, attempt)
            self._emit(
                StepRetrying(
                    run_id=self.run_id,
                    host=step.host,
                    step_id=step.id,
                    attempt=attempt,
                    delay=round(delay, 3),
                    reason=outcome.message or outcome.status.value,
                    retries_left=step.retries + 1 - attempt,
                )
            )
            await asyncio.sleep(delay)

    async def _attempt(self, attempt: int) -> tuple[StepOutcome, str | None]:
        step = self.step
        ctx = StepContext(
            run_id=self.run_id,
            step=step,
            attempt=attempt,
            emit=self._emit,
            is_cancelled=self._is_cancelled,
        )
        deadline = asyncio.timeout(step.timeout)
        try:
            async with deadline:
                value = await step.action(ctx)
        except TimeoutError as exc:
            if deadline.expired():
                message = f"step {step.id} timed out after {step.timeout:g}s"
                return StepOutcome(HostStatus.TIMED_OUT, message=message), None
            return outcome_for_exception(step, exc)
        except Exception as exc:  # the error boundary around user code
            return outcome_for_exception(step, exc)
        try:
            return StepOutcome.from_return(value), None
        except TypeError as exc:
            message = f"internal error in step {step.id}: action {exc}"
            return StepOutcome(HostStatus.FAILED, message=message), None
