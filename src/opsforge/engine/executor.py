"""The one executor: runs a plan's DAG on asyncio and emits events.

Bounded concurrency: at most ``forks`` steps run at once across the whole run
(the scheduler only starts a step when a slot is free, which is a semaphore
without the waiting tasks). Dependencies are respected; steps without a path
between them in the DAG may run concurrently, on the same host or not.

Interrupts
----------
``Executor.cancel()`` (Ctrl-C): nothing new starts, running step tasks are
cancelled (a connector's CancelledError handling kills remote processes) and end
INTERRUPTED, unstarted steps end SKIPPED ("interrupted"), ``RunFinished`` is
emitted and ``run()`` **returns** the summary, with ``interrupted=True`` and
exit code 130.

If instead the task awaiting ``run()`` is cancelled (e.g. ``asyncio.run`` on
SIGINT), the same happens — running steps are cancelled and awaited, the summary
is built and ``RunFinished`` emitted — and then ``run()`` **re-raises**
``CancelledError``, as asyncio requires. The summary is left in
:attr:`Executor.last_summary`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Callable, Sequence

from opsforge.engine.batches import SerialSpec, normalize_serial, split_batches
from opsforge.engine.context import StepOutcome
from opsforge.engine.events import BatchStarted, Event, RunFinished, RunStarted
from opsforge.engine.plan import Plan, Step
from opsforge.engine.runner import StepRunner
from opsforge.engine.scheduler import Schedule
from opsforge.engine.summary import RunSummary, new_run_id
from opsforge.errors import PlanError, UsageError
from opsforge.types import HostStatus

__all__ = ["Executor"]

logger = logging.getLogger("opsforge.engine")

_Outcome = tuple[StepOutcome, str | None]


def _check_batch_deps(plan: Plan, batches: Sequence[tuple[str, ...]]) -> None:
    """A step cannot depend on a step of a host that runs in a later batch."""
    batch_of = {host: i for i, hosts in enumerate(batches) for host in hosts}
    for step in plan.steps:
        for dep in step.deps:
            dep_host = plan[dep].host
            if batch_of[dep_host] > batch_of[step.host]:
                raise PlanError(
                    f"step {step.id!r} (host {step.host}, batch {batch_of[step.host] + 1}) "
                    f"depends on {dep!r} (host {dep_host}), which runs in the later batch "
                    f"{batch_of[dep_host] + 1}; reorder the hosts or drop serial"
                )


class Executor:
    """Runs plans. One executor runs one plan at a time; it can be reused.

    ``serial``: rolling batches (see :mod:`opsforge.engine.batches`). ``fail_fast``:
    after the first failure anywhere, start nothing new. ``max_fail_percentage``:
    once more than this share of the current batch's hosts failed, start nothing
    new and skip the later batches. Invalid values raise ``UsageError``.

    ``on_event`` (and any handler added with :meth:`subscribe`) is called
    synchronously, in order, for every event; a handler that raises is logged
    as a warning and the run goes on.
    """

    def __init__(
        self,
        *,
        forks: int = 50,
        serial: SerialSpec | None = None,
        fail_fast: bool = False,
        max_fail_percentage: float | None = None,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        if isinstance(forks, bool) or not isinstance(forks, int) or forks < 1:
            raise UsageError(f"forks must be a whole number >= 1, not {forks!r}")
        if max_fail_percentage is not None and not 0 <= max_fail_percentage <= 100:
            raise UsageError(
                f"max_fail_percentage must be between 0 and 100, not {max_fail_percentage!r}"
            )
        self.forks = forks
        self.serial = normalize_serial(serial)
        self.fail_fast = fail_fast
        self.max_fail_percentage = max_fail_percentage
        self._handlers: list[Callable[[Event], None]] = [on_event] if on_event else []
        self.last_summary: RunSummary | None = None
        self._schedule: Schedule | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: dict[asyncio.Task[_Outcome], tuple[Step, StepRunner]] = {}
        self._batch_index = 0

    # -- public API ----------------------------------------------------------------

    def subscribe(self, handler: Callable[[Event], None]) -> None:
        """Add an event handler (after ``on_event`` and earlier ones)."""
        self._handlers.append(handler)

    @property
    def running(self) -> bool:
        return self._schedule is not None

    def cancel(self) -> None:
        """Interrupt the current run (see the module docstring); no-op when idle.

        Safe inside the event loop (e.g. ``loop.add_signal_handler(SIGINT,
        executor.cancel)``) and from other threads; from a ``signal.signal``
        handler use ``loop.call_soon_threadsafe(executor.cancel)``.
        """
        loop = self._loop
        if self._schedule is None or loop is None:
            return
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is loop:
            self._interrupt()
        else:
            # a closed loop has nothing left to interrupt
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._interrupt)

    async def run(self, plan: Plan) -> RunSummary:
        """Run ``plan`` to the end and return its summary (see the module docstring).

        Raises :class:`~opsforge.errors.PlanError` before anything starts when a
        step depends on a host of a later serial batch.
        """
        if self._schedule is not None:
            raise RuntimeError("this Executor is already running a plan")
        batches = split_batches(plan.hosts, self.serial)
        _check_batch_deps(plan, batches)
        schedule = Schedule(plan, run_id=new_run_id(), emit=self._emit)
        self._schedule = schedule
        self._loop = asyncio.get_running_loop()
        self._emit(
            RunStarted(
                run_id=schedule.run_id,
                hosts=plan.hosts,
                steps=len(plan),
                forks=self.forks,
                serial=self.serial,
            )
        )
        cancelled: asyncio.CancelledError | None = None
        try:
            for index, hosts in enumerate(batches):
                if schedule.stop_reason is not None:
                    break
                await self._run_batch(schedule, index, len(batches), hosts)
        except asyncio.CancelledError as exc:
            cancelled = exc
            self._interrupt()
            await self._drain(schedule)
        except BaseException:
            for task in self._running:
                task.cancel()
            self._running.clear()
            self._schedule = None
            raise
        schedule.skip_unstarted(schedule.stop_reason or "not run")
        summary = schedule.summary()
        self.last_summary = summary
        self._schedule = None
        self._emit(RunFinished(run_id=schedule.run_id, summary=summary))
        if cancelled is not None:
            raise cancelled
        return summary

    # -- the loop ------------------------------------------------------------------

    async def _run_batch(
        self, schedule: Schedule, index: int, total: int, hosts: tuple[str, ...]
    ) -> None:
        self._batch_index = index
        self._emit(BatchStarted(run_id=schedule.run_id, index=index, total=total, hosts=hosts))
        schedule.start_batch(hosts)
        while True:
            self._launch(schedule)
            if not self._running:
                break
            done, _ = await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
            for task in self._in_plan_order(schedule, done):
                self._collect(schedule, task)
        leftover = schedule.unfinished(hosts)
        if leftover:  # cannot happen with a validated plan; never hang or lose steps
            logger.warning("steps never became ready: %s", ", ".join(leftover))
            schedule.skip_unstarted("never became ready", hosts)

    def _launch(self, schedule: Schedule) -> None:
        while len(self._running) < self.forks:
            step = schedule.pop_ready()
            if step is None:
                return
            runner = StepRunner(
                step,
                run_id=schedule.run_id,
                emit=self._emit,
                is_cancelled=lambda: schedule.interrupted,
            )
            task = asyncio.create_task(runner.run(), name=f"opsforge step {step.id}")
            self._running[task] = (step, runner)

    def _in_plan_order(
        self, schedule: Schedule, tasks: set[asyncio.Task[_Outcome]]
    ) -> list[asyncio.Task[_Outcome]]:
        return sorted(tasks, key=lambda t: schedule.index_of(self._running[t][0].id))

    def _collect(self, schedule: Schedule, task: asyncio.Task[_Outcome]) -> None:
        step, runner = self._running.pop(task)
        tb: str | None = None
        if task.cancelled():
            outcome = StepOutcome(HostStatus.INTERRUPTED, message="interrupted")
        elif (exc := task.exception()) is not None:  # BaseException the boundary let through
            message = f"internal error in step {step.id}: {type(exc).__name__}: {exc}"
            outcome = StepOutcome(HostStatus.FAILED, message=message)
            tb = "".join(traceback.format_exception(exc))
        else:
            outcome, tb = task.result()
        schedule.finish(step.id, outcome, attempts=runner.attempts, traceback=tb)
        status = outcome.status
        if status.is_success or status is HostStatus.INTERRUPTED:
            return
        if self.fail_fast:
            schedule.stop(f"fail-fast: step {step.id} on {step.host} {status.value}")
        elif self.max_fail_percentage is not None:
            failed, total = schedule.batch_failure_share()
            if total and failed * 100 / total > self.max_fail_percentage:
                schedule.stop(
                    f"max_fail_percentage {self.max_fail_percentage:g}% exceeded: "
                    f"{failed} of {total} hosts failed in batch {self._batch_index + 1}"
                )

    async def _drain(self, schedule: Schedule) -> None:
        """Wait for every running step task to end and record it."""
        while self._running:
            done, _ = await asyncio.wait(self._running)
            for task in self._in_plan_order(schedule, done):
                self._collect(schedule, task)

    def _interrupt(self) -> None:
        schedule = self._schedule
        if schedule is None or schedule.interrupted:
            return
        schedule.interrupted = True
        schedule.stop("interrupted")
        for task in self._running:
            task.cancel()

    def _emit(self, event: Event) -> None:
        for handler in self._handlers:
            try:
                handler(event)
            except Exception:
                logger.warning(
                    "event handler %r failed on %s event; the run goes on",
                    handler,
                    event.kind,
                    exc_info=True,
                )
