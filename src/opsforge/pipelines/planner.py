"""Planning: a loaded :class:`~opsforge.pipelines.model.Pipeline` → a validated job graph.

No I/O and nothing runs here. Rules:

* a job with ``needs=None`` waits for every *running* job of the earlier stages
  (``.pre`` first, ``.post`` last, as the front-end ordered ``stages``); a job with
  ``needs`` waits for exactly those (an ``optional`` need on a job that is not in
  the pipeline is dropped);
* a need on a job that does not exist, a ``dependencies`` entry that is neither a
  need nor an earlier-stage job, and a cycle are :class:`PipelinePlanError` naming
  the file:line and the job, before anything runs;
* ``when: manual`` jobs run only when named; with job names given, only those jobs
  and what they (transitively) ``need`` run; other jobs are listed as not run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opsforge.errors import UsageError
from opsforge.pipelines.errors import PipelinePlanError
from opsforge.pipelines.model import Job, Pipeline, When

__all__ = ["PipelinePlan", "PlannedJob", "plan_pipeline"]


@dataclass(frozen=True, slots=True)
class PlannedJob:
    """A job in the plan: what it waits for, whose artifacts it gets, and whether it runs.

    ``run`` False: the job is listed (manual and not named, or not selected) but not
    started; ``reason`` says why it is (not) in the run.
    """

    job: Job
    deps: tuple[str, ...]
    artifacts_from: tuple[str, ...]
    run: bool
    reason: str

    @property
    def name(self) -> str:
        return self.job.name


@dataclass(frozen=True, slots=True)
class PipelinePlan:
    pipeline: Pipeline
    jobs: tuple[PlannedJob, ...]

    def __repr__(self) -> str:
        return f"PipelinePlan({self.pipeline.name!r}, jobs={len(self.jobs)})"

    def __getitem__(self, name: str) -> PlannedJob:
        for planned in self.jobs:
            if planned.name == name:
                return planned
        raise KeyError(name)

    @property
    def running(self) -> tuple[PlannedJob, ...]:
        return tuple(p for p in self.jobs if p.run)

    def to_dict(self) -> dict[str, Any]:
        """The graph as JSON-safe data (``pipeline graph --json``)."""
        pipe = self.pipeline
        return {
            "pipeline": pipe.name,
            "format": pipe.format,
            "file": pipe.source.path,
            "stages": list(pipe.stages),
            "jobs": [
                {
                    "name": p.name,
                    "stage": p.job.stage,
                    "needs": list(p.deps),
                    "artifacts_from": list(p.artifacts_from),
                    "when": p.job.when.value,
                    "runs": p.run,
                    "reason": p.reason,
                    "matrix": dict(p.job.matrix),
                    "source": str(p.job.source) if p.job.source else None,
                }
                for p in self.jobs
            ],
            "excluded": [{"name": e.name, "reason": e.reason} for e in pipe.excluded],
        }


def _error(job: Job, message: str) -> PipelinePlanError:
    src = job.source
    return PipelinePlanError(
        message, path=src.path if src else None, line=src.line if src else None, job=job.name
    )


def _stage_index(pipeline: Pipeline) -> dict[str, int]:
    order = {stage: i for i, stage in enumerate(pipeline.stages)}
    for job in pipeline.jobs:
        if job.stage not in order:
            raise _error(
                job,
                f"chooses stage {job.stage!r}, which is not in stages "
                f"({', '.join(pipeline.stages)})",
            )
    return order


def _explicit_needs(pipeline: Pipeline, names: Mapping[str, Job]) -> dict[str, tuple[str, ...]]:
    excluded = {e.name: e.reason for e in pipeline.excluded}
    result: dict[str, tuple[str, ...]] = {}
    for job in pipeline.jobs:
        if job.needs is None:
            continue
        kept: list[str] = []
        for need in job.needs:
            if need.job in names:
                if need.job == job.name:
                    raise _error(job, "needs itself")
                kept.append(need.job)
            elif need.optional:
                continue
            elif need.job in excluded:
                raise _error(
                    job,
                    f"needs {need.job!r}, which is not in this pipeline "
                    f"({excluded[need.job]}); make the need optional: true",
                )
            else:
                raise _error(job, f"needs {need.job!r}, which is not a job of this pipeline")
        result[job.name] = tuple(dict.fromkeys(kept))
    return result


def _check_cycles(jobs: Sequence[Job], deps: Mapping[str, tuple[str, ...]]) -> None:
    by_name = {job.name: job for job in jobs}
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        path.append(name)
        for dep in deps.get(name, ()):
            if state.get(dep) == 1:
                cycle = [*path[path.index(dep) :], dep]
                raise _error(by_name[dep], "needs form a cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep, path)
        path.pop()
        state[name] = 2

    for job in jobs:
        if job.name not in state:
            visit(job.name, [])


def _closure(roots: Iterable[str], deps: Mapping[str, tuple[str, ...]]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(deps.get(name, ()))
    return seen


def _selection(
    pipeline: Pipeline,
    requested: Sequence[str],
    needs: Mapping[str, tuple[str, ...]],
    manual: Sequence[str] = (),
) -> tuple[set[str], dict[str, str]]:
    names = {job.name for job in pipeline.jobs}
    groups = {job.matrix_of for job in pipeline.jobs if job.matrix_of}
    excluded = {e.name: e.reason for e in pipeline.excluded}
    reasons: dict[str, str] = {}
    for name in (*requested, *manual):
        if name in names or (name in manual and name in groups):
            continue
        if name in excluded:
            raise UsageError(f"job {name!r} is not in this pipeline: {excluded[name]}")
        close = sorted(n for n in names if name.lower() in n.lower())[:5]
        hint = f"; did you mean {', '.join(repr(n) for n in close)}?" if close else ""
        raise UsageError(f"no job named {name!r} in {pipeline.source.path}{hint}")
    if requested:
        chosen = _closure(requested, needs)
        for job in pipeline.jobs:
            if job.name in requested:
                reasons[job.name] = "named on the command line"
            elif job.name in chosen:
                reasons[job.name] = "needed by a named job"
            else:
                reasons[job.name] = "not selected (other jobs were named)"
        return chosen, reasons
    chosen = set()
    for job in pipeline.jobs:
        if job.when is When.MANUAL and (job.name in manual or job.matrix_of in manual):
            chosen.add(job.name)
            reasons[job.name] = "manual job started with --manual"
        elif job.when is When.MANUAL:
            reasons[job.name] = "manual job: runs only when named (opsforge pipeline run FILE JOB)"
        else:
            chosen.add(job.name)
            reasons[job.name] = job.condition.reason if job.condition else "in the pipeline"
    return chosen, reasons


def plan_pipeline(
    pipeline: Pipeline, requested: Sequence[str] = (), manual: Sequence[str] = ()
) -> PipelinePlan:
    """Validate and plan ``pipeline``; see the module docstring. ``manual``: manual jobs
    to start in a whole-pipeline run (``--manual``), as if someone pressed play."""
    if not pipeline.runs:
        return PipelinePlan(pipeline, ())
    by_name: dict[str, Job] = {}
    for job in pipeline.jobs:
        if job.name in by_name:
            raise _error(job, "is defined twice (job names must be unique)")
        by_name[job.name] = job
    stage_of = _stage_index(pipeline)
    needs = _explicit_needs(pipeline, by_name)
    _check_cycles(pipeline.jobs, needs)
    chosen, reasons = _selection(pipeline, requested, needs, manual)
    _drop_blocked(pipeline.jobs, needs, chosen, reasons)
    planned: list[PlannedJob] = []
    for job in sorted(pipeline.jobs, key=lambda j: stage_of[j.stage]):
        if job.needs is None:
            deps = tuple(
                other.name
                for other in pipeline.jobs
                if stage_of[other.stage] < stage_of[job.stage] and other.name in chosen
            )
        else:
            deps = tuple(d for d in needs[job.name] if d in chosen)
        artifacts_from = _artifact_sources(job, deps, needs, pipeline, stage_of)
        planned.append(PlannedJob(job, deps, artifacts_from, job.name in chosen, reasons[job.name]))
    return PipelinePlan(pipeline, tuple(planned))


def _drop_blocked(
    jobs: Sequence[Job],
    needs: Mapping[str, tuple[str, ...]],
    chosen: set[str],
    reasons: dict[str, str],
) -> None:
    """A job that needs a job that does not run (manual, not selected) cannot run either."""
    changed = True
    while changed:
        changed = False
        for job in jobs:
            if job.name not in chosen or job.needs is None:
                continue
            blocked = [d for d in needs[job.name] if d not in chosen]
            if blocked:
                chosen.discard(job.name)
                reasons[job.name] = (
                    f"needs {blocked[0]!r}, which does not run ({reasons[blocked[0]]})"
                )
                changed = True


def _artifact_sources(
    job: Job,
    deps: tuple[str, ...],
    needs: Mapping[str, tuple[str, ...]],
    pipeline: Pipeline,
    stage_of: Mapping[str, int],
) -> tuple[str, ...]:
    if job.dependencies is not None:
        allowed = set(needs.get(job.name, ())) | {
            o.name for o in pipeline.jobs if stage_of[o.stage] < stage_of[job.stage]
        }
        for dep in job.dependencies:
            if dep not in allowed:
                raise _error(
                    job,
                    f"dependencies lists {dep!r}, which is neither a need nor a job of an "
                    "earlier stage",
                )
        return tuple(d for d in job.dependencies if d in deps)
    if job.needs is None:
        return deps
    with_artifacts = {n.job for n in job.needs if n.artifacts}
    return tuple(d for d in deps if d in with_artifacts)
