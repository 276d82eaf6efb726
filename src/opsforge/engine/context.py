"""What a step's action receives (:class:`StepContext`) and returns (:class:`StepOutcome`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsforge.engine.events import Event, StepOutput
from opsforge.types import HostStatus, Result

if TYPE_CHECKING:
    from opsforge.engine.plan import Step

__all__ = ["StepContext", "StepOutcome"]


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """How a step ended, as its action reports it.

    An action may also return a bare :class:`Result` (OK if ``result.ok``, else
    FAILED) or None (OK). ``data`` carries anything renderers may show, e.g.
    ``{"changed": True, "diff": "..."}``; it is masked and serialised in events.
    """

    status: HostStatus
    result: Result | None = None
    message: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_return(cls, value: StepOutcome | Result | None) -> StepOutcome:
        """Normalise what an action returned (see the class docstring)."""
        if value is None:
            return cls(HostStatus.OK)
        if isinstance(value, StepOutcome):
            return value
        if isinstance(value, Result):
            if value.ok:
                return cls(HostStatus.OK, value)
            status = HostStatus.TIMED_OUT if value.timed_out else HostStatus.FAILED
            return cls(status, value, f"command exited with {value.exit_code}")
        raise TypeError(f"returned {type(value).__name__}, expected StepOutcome, Result or None")


class StepContext:
    """The explicit context of one attempt of one step.

    ``attempt`` is 1-based. Long-running actions should look at :attr:`cancelled`
    (or call :meth:`raise_if_cancelled`) between pieces of work; an interrupt also
    cancels the action's task, so ``await`` points stop on their own.
    """

    __slots__ = ("_emit", "_is_cancelled", "attempt", "run_id", "step")

    def __init__(
        self,
        *,
        run_id: str,
        step: Step,
        attempt: int,
        emit: Callable[[Event], None],
        is_cancelled: Callable[[], bool],
    ) -> None:
        self.run_id = run_id
        self.step = step
        self.attempt = attempt
        self._emit = emit
        self._is_cancelled = is_cancelled

    @property
    def host(self) -> str:
        return self.step.host

    @property
    def cancelled(self) -> bool:
        """True once the run was interrupted (``Executor.cancel()`` or task cancellation)."""
        return self._is_cancelled()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`asyncio.CancelledError` if the run was interrupted."""
        if self._is_cancelled():
            raise asyncio.CancelledError

    def emit(self, event: Event) -> None:
        """Send any event to the run's subscribers (use ``ctx.run_id`` for its run_id)."""
        self._emit(event)

    def emit_output(self, stream: str, text: str) -> None:
        """Emit a :class:`StepOutput` for this step, e.g. ``ctx.emit_output("stdout", line)``."""
        self._emit(
            StepOutput(
                run_id=self.run_id,
                host=self.step.host,
                step_id=self.step.id,
                stream=stream,
                text=text,
            )
        )

    def __repr__(self) -> str:
        return f"StepContext(step={self.step.id!r}, host={self.host!r}, attempt={self.attempt})"
