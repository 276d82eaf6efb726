"""Running a planned pipeline on the one engine :class:`~opsforge.engine.Executor`.

Each running job becomes one engine :class:`~opsforge.engine.Step` (``host`` =
``local``, or the inventory host of an ssh job) whose deps are the jobs it waits for
and whose action is a :class:`~opsforge.pipelines.jobrun.JobAction`. Steps are
``after_failures``: the job action itself decides (``when``, ``allow_failure``,
conditions) once its deps are done. The exit code is the engine's: an allowed
failure ends its step OK, so the code is the worst failure not allowed to fail
(1), or 130 when interrupted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from opsforge.engine import Event, Executor, Plan, RunSummary, Step, new_run_id
from opsforge.pipelines.jobrun import JobAction
from opsforge.pipelines.masking import Masker
from opsforge.pipelines.planner import PipelinePlan
from opsforge.pipelines.records import JobRecord, JobStatus
from opsforge.pipelines.runstate import RunSettings, RunState

__all__ = ["PipelineRun", "run_pipeline"]

MAX_CONCURRENCY = 64


@dataclass(frozen=True, slots=True)
class PipelineRun:
    """A finished run: per-job records in plan order, the engine summary, where files are."""

    run_id: str
    plan: PipelinePlan
    records: dict[str, JobRecord]
    summary: RunSummary
    run_dir: Path

    @property
    def exit_code(self) -> int:
        return int(self.summary.exit_code())

    def __repr__(self) -> str:
        # short on purpose: asyncio formats the repr of a task's result at shutdown
        return f"PipelineRun({self.run_id!r}, jobs={len(self.records)}, exit_code={self.exit_code})"


def _not_run(plan: PipelinePlan) -> dict[str, JobRecord]:
    records = {}
    for planned in plan.jobs:
        if not planned.run:
            status = JobStatus.MANUAL if planned.job.is_manual else JobStatus.NOT_RUN
            records[planned.name] = JobRecord(
                planned.name, status, message=planned.reason, stage=planned.job.stage
            )
    return records


async def run_pipeline(
    plan: PipelinePlan,
    settings: RunSettings | None = None,
    *,
    subscribers: Iterable[Callable[[Event], None]] = (),
    secrets: Iterable[str] = (),
    executor_hook: Callable[[Executor], None] | None = None,
    run_id: str | None = None,
) -> PipelineRun:
    """Run every job of ``plan`` that runs; return the records (see the module docstring)."""
    settings = settings or RunSettings()
    run_id = run_id or new_run_id()
    masker = Masker([*plan.pipeline.secrets(), *secrets])
    state = RunState(plan, settings, run_id, masker)
    running = plan.running
    names = {p.name for p in running}
    steps = [
        Step(
            p.name,
            p.job.host or "local",
            JobAction(p, state),
            deps=tuple(d for d in p.deps if d in names),
            after_failures=True,
            description=p.name,
        )
        for p in running
    ]
    forks = settings.concurrency or max(1, min(len(steps), MAX_CONCURRENCY))
    executor = Executor(forks=forks)
    for handler in subscribers:
        executor.subscribe(handler)
    if executor_hook is not None:
        executor_hook(executor)
    engine_plan = Plan.build(steps)
    try:
        summary = await executor.run(engine_plan)
    finally:
        await state.close()
    records = _not_run(plan)
    for planned in running:
        record = state.results.get(planned.name)
        if record is None:  # skipped by the engine (interrupt): never started
            record = JobRecord(
                planned.name,
                JobStatus.CANCELED if summary.interrupted else JobStatus.SKIPPED,
                message="interrupted before it started" if summary.interrupted else "not run",
                stage=planned.job.stage,
            )
        records[planned.name] = record
    ordered = {p.name: records[p.name] for p in plan.jobs}
    return PipelineRun(run_id, plan, ordered, summary, state.run_dir)
