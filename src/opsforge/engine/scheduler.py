"""The per-run state machine: pending → ready → running → done, per step.

:class:`Schedule` is pure bookkeeping (no asyncio, no I/O): it decides which
steps are ready, records how steps ended, skips what can no longer run, tracks
hosts, and emits the matching events through the callback it was given. The
:class:`~opsforge.engine.Executor` drives it with real tasks.

Skip rules, applied as soon as their cause is known:

* a step whose dependency did not succeed is SKIPPED ("dependency X failed" /
  "dependency X was skipped"); this cascades down the DAG;
* once a step of a host ends UNREACHABLE, AUTH_FAILED or HOST_KEY_MISMATCH, the
  host's steps that have not started are SKIPPED ("host H unreachable: ...");
* once the run stops (fail-fast, max_fail_percentage exceeded, interrupt), every
  step that has not started, in any batch, is SKIPPED with that reason.

A step whose *action* returned SKIPPED counts as success for its dependents;
only steps the engine skipped block their dependents. A step with
``after_failures`` is released by every dep that ends (except an interrupted one),
whatever its status; its action decides.
"""

from __future__ import annotations

import enum
import heapq
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from opsforge.engine.context import StepOutcome
from opsforge.engine.events import Event, HostFinished, StepFinished
from opsforge.engine.plan import Plan, Step
from opsforge.engine.summary import RunSummary, worst_status
from opsforge.types import HostStatus

__all__ = ["Schedule", "StepState"]


class StepState(enum.Enum):
    PENDING = "pending"
    READY = "ready"
    RUNNING = "running"
    DONE = "done"


def _is_failure(status: HostStatus) -> bool:
    return not status.is_success and status is not HostStatus.INTERRUPTED


@dataclass(slots=True)
class _StepTrack:
    step: Step
    index: int
    missing: int
    state: StepState = StepState.PENDING
    status: HostStatus | None = None
    message: str = ""
    blocked: bool = False  # skipped by the engine: dependents cannot run
    started: float | None = None


@dataclass(slots=True)
class _HostTrack:
    name: str
    total: int
    done: int = 0
    failed: bool = False
    down: str | None = None
    first_start: float | None = None
    last_end: float | None = None
    reported: bool = False
    steps: list[_StepTrack] = field(default_factory=list)


class Schedule:
    """Bookkeeping of one run of one plan; see the module docstring."""

    def __init__(self, plan: Plan, *, run_id: str, emit: Callable[[Event], None]) -> None:
        self.plan = plan
        self.run_id = run_id
        self.started = time.time()
        self.stop_reason: str | None = None
        self.interrupted = False
        self._emit = emit
        self._tracks: dict[str, _StepTrack] = {}
        self._order: list[_StepTrack] = []
        self._hosts: dict[str, _HostTrack] = {h: _HostTrack(h, 0) for h in plan.hosts}
        for index, step in enumerate(plan.topological_order()):
            track = _StepTrack(step, index, missing=len(set(step.deps)))
            self._tracks[step.id] = track
            self._order.append(track)
            host = self._hosts[step.host]
            host.steps.append(track)
            host.total += 1
        self._ready: list[int] = []
        self._batch: frozenset[str] = frozenset()

    # -- batches and readiness -------------------------------------------------

    def start_batch(self, hosts: Collection[str]) -> None:
        """Make the batch's hosts current and queue their steps that are ready."""
        self._batch = frozenset(hosts)
        for host in hosts:
            for track in self._hosts[host].steps:
                self._maybe_ready(track)

    def batch_failure_share(self) -> tuple[int, int]:
        """(failed hosts, hosts) of the current batch."""
        failed = sum(1 for h in self._batch if self._hosts[h].failed)
        return failed, len(self._batch)

    def _maybe_ready(self, track: _StepTrack) -> None:
        if (
            track.state is StepState.PENDING
            and track.missing == 0
            and track.step.host in self._batch
            and self.stop_reason is None
        ):
            track.state = StepState.READY
            heapq.heappush(self._ready, track.index)

    def pop_ready(self) -> Step | None:
        """The next ready step (topological order), now RUNNING; None if there is none."""
        while self._ready and self.stop_reason is None:
            track = self._order[heapq.heappop(self._ready)]
            if track.state is StepState.READY:
                track.state = StepState.RUNNING
                track.started = time.monotonic()
                host = self._hosts[track.step.host]
                if host.first_start is None:
                    host.first_start = track.started
                return track.step
        return None

    def index_of(self, step_id: str) -> int:
        """Position of a step in topological order."""
        return self._tracks[step_id].index

    def unfinished(self, hosts: Iterable[str]) -> list[str]:
        """Ids of steps of ``hosts`` that are not done yet."""
        return [
            t.step.id for h in hosts for t in self._hosts[h].steps if t.state is not StepState.DONE
        ]

    # -- ending steps ------------------------------------------------------------

    def finish(
        self,
        step_id: str,
        outcome: StepOutcome,
        *,
        attempts: int,
        traceback: str | None = None,
    ) -> None:
        """Record the end of a running step, then apply the skip and stop rules."""
        track = self._tracks[step_id]
        started = track.started if track.started is not None else time.monotonic()
        self._done(track, outcome.status, outcome.message, blocked=False)
        self._emit(
            StepFinished(
                run_id=self.run_id,
                host=track.step.host,
                step_id=step_id,
                status=outcome.status,
                result=outcome.result,
                message=outcome.message,
                duration=round(time.monotonic() - started, 6),
                attempts=attempts,
                data=outcome.data,
                traceback=traceback,
            )
        )
        host = self._hosts[track.step.host]
        if outcome.status.is_connect_failure and host.down is None:
            host.down = f"host {host.name} {outcome.status.value}: {outcome.message}".rstrip(": ")
            for other in host.steps:
                self._skip(other, host.down)
        self._release_dependents(track)
        self._host_progress(host)

    def skip_unstarted(self, reason: str, hosts: Iterable[str] | None = None) -> None:
        """Skip every step (of ``hosts``, or all) that has not started."""
        names = self._hosts if hosts is None else hosts
        for track in self._order:
            if track.step.host in names:
                self._skip(track, reason)

    def stop(self, reason: str) -> None:
        """Start nothing new; skip every step that has not started."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self._ready.clear()
            self.skip_unstarted(reason)

    def _skip(self, track: _StepTrack, reason: str) -> None:
        if track.state not in (StepState.PENDING, StepState.READY):
            return
        self._done(track, HostStatus.SKIPPED, reason, blocked=True)
        self._emit(
            StepFinished(
                run_id=self.run_id,
                host=track.step.host,
                step_id=track.step.id,
                status=HostStatus.SKIPPED,
                message=reason,
            )
        )
        self._release_dependents(track)
        self._host_progress(self._hosts[track.step.host])

    def _done(self, track: _StepTrack, status: HostStatus, message: str, *, blocked: bool) -> None:
        track.state = StepState.DONE
        track.status = status
        track.message = message
        track.blocked = blocked
        host = self._hosts[track.step.host]
        host.done += 1
        if track.started is not None:
            host.last_end = time.monotonic()
        if _is_failure(status):
            host.failed = True

    def _release_dependents(self, track: _StepTrack) -> None:
        status = track.status
        assert status is not None
        ok = status.is_success and not track.blocked
        for child_id in self.plan.dependents(track.step.id):
            child = self._tracks[child_id]
            if ok or (child.step.after_failures and status is not HostStatus.INTERRUPTED):
                child.missing -= 1
                self._maybe_ready(child)
            elif track.blocked:
                self._skip(child, f"dependency {track.step.id} was skipped")
            elif status is HostStatus.INTERRUPTED:
                self._skip(child, f"dependency {track.step.id} was interrupted")
            elif status is HostStatus.FAILED:
                self._skip(child, f"dependency {track.step.id} failed")
            else:
                self._skip(child, f"dependency {track.step.id} failed ({status.value})")

    # -- hosts and the summary ---------------------------------------------------

    def _host_progress(self, host: _HostTrack) -> None:
        if host.done != host.total or host.reported:
            return
        host.reported = True
        statuses = [t.status for t in host.steps if t.status is not None]
        status = worst_status(statuses)
        message = next((t.message for t in host.steps if t.status is status), "")
        count = {s: statuses.count(s) for s in HostStatus}
        duration = 0.0
        if host.first_start is not None and host.last_end is not None:
            duration = host.last_end - host.first_start
        self._emit(
            HostFinished(
                run_id=self.run_id,
                host=host.name,
                status=status,
                steps_total=host.total,
                steps_ok=count[HostStatus.OK],
                steps_changed=count[HostStatus.CHANGED],
                steps_failed=sum(n for s, n in count.items() if not s.is_success),
                steps_skipped=count[HostStatus.SKIPPED],
                message=message,
                duration=round(duration, 6),
            )
        )

    def host_failed(self, host: str) -> bool:
        return self._hosts[host].failed

    def summary(self) -> RunSummary:
        """The run's summary; steps still not done count as SKIPPED."""
        host_status = {
            name: worst_status(t.status or HostStatus.SKIPPED for t in host.steps)
            for name, host in self._hosts.items()
        }
        step_status = {t.step.id: t.status or HostStatus.SKIPPED for t in self._order}
        return RunSummary(
            run_id=self.run_id,
            started=self.started,
            ended=time.time(),
            host_status=host_status,
            step_status=step_status,
            interrupted=self.interrupted,
        )

    def describe(self) -> dict[str, Any]:
        """Current state of every step, for debugging and tests."""
        return {t.step.id: t.state.value for t in self._order}
