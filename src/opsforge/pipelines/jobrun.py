"""One job, start to end: the engine action of a pipeline job.

Order (GitLab's): decide whether it runs (``when`` against the jobs it waited for,
or :attr:`Condition.check`), take the ``resource_group`` lock, up-to-date check,
then per attempt: fresh workdir, artifacts of earlier jobs, caches, steps
(before + script) under the job ``timeout``; then ``after_steps`` (always, failures
ignored), artifacts and reports collected, caches saved. ``retry`` repeats the
attempt for the failure kinds it names.

An allowed failure ends the engine step OK (so the run's exit code ignores it); the
job's own status lives in :class:`~opsforge.pipelines.records.JobRecord` and in the
event's ``data`` (``job_status``, ``allowed_failure``, ``exit_code``, ``log``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path

from opsforge.engine import Event, StepContext, StepOutcome, StepOutput, StepRetrying
from opsforge.errors import CommandTimeout, ConnectError, OpsforgeError, TransferError
from opsforge.pipelines.caching import (
    cache_dir_variable,
    cache_key,
    cache_saves,
    fingerprint,
    is_up_to_date,
    record_up_to_date,
    restore_cache,
    save_cache,
)
from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.files import copy_tree, match_files, store_files
from opsforge.pipelines.joblog import JobLog
from opsforge.pipelines.model import Artifacts, ArtifactWhen, Job, When
from opsforge.pipelines.planner import PlannedJob
from opsforge.pipelines.records import JobRecord, JobStatus, LiveView
from opsforge.pipelines.runstate import RunState
from opsforge.pipelines.stepexec import StepSequence, runs_over_ssh
from opsforge.pipelines.variables import parse_dotenv, resolve_variables
from opsforge.pipelines.workspace import safe_name
from opsforge.types import HostStatus

__all__ = ["JobAction"]


class _Attempt:
    """How one attempt ended."""

    def __init__(self, status: JobStatus, exit_code: int | None, message: str) -> None:
        self.status = status
        self.exit_code = exit_code
        self.message = message


def _artifacts_wanted(art: Artifacts, success: bool) -> bool:
    return (
        art.when is ArtifactWhen.ALWAYS
        or (art.when is ArtifactWhen.ON_SUCCESS and success)
        or (art.when is ArtifactWhen.ON_FAILURE and not success)
    )


def _retry_wanted(job: Job, attempt: _Attempt) -> bool:
    retry = job.retry
    kinds = set(retry.when) or {"always"}
    if retry.exit_codes and attempt.exit_code not in retry.exit_codes:
        return False
    if "always" in kinds or "unknown_failure" in kinds:
        return True
    if attempt.status is JobStatus.TIMED_OUT:
        return "job_execution_timeout" in kinds
    return "script_failure" in kinds


class JobAction:
    """The engine :data:`~opsforge.engine.Action` of one planned job."""

    def __init__(self, planned: PlannedJob, state: RunState) -> None:
        self.planned = planned
        self.job = planned.job
        self.state = state
        self.__qualname__ = f"JobAction[{planned.name}]"

    # -- the gate --------------------------------------------------------------------

    def _gate(self) -> tuple[bool, str, bool]:
        """(run?, reason when not, upstream failure?)."""
        job = self.job
        records = {d: self.state.results[d] for d in self.planned.deps if d in self.state.results}
        failed = [n for n, r in records.items() if r.blocks_success]
        upstream = bool(failed)
        if any(r.status is JobStatus.CANCELED for r in records.values()):
            return False, "a job before it was canceled", upstream
        if job.fail_fast and job.matrix_of in self.state.failed_groups:
            return False, f"fail-fast: another cell of {job.matrix_of} failed", upstream
        condition = job.condition
        if condition is not None and condition.check is not None:
            view = LiveView(job, env=self._env(), needs=records, steps={}, workdir=self.state.root)
            if not condition.check(view):
                return False, condition.reason or "condition is false", upstream
            return True, "", upstream
        if job.when is When.ALWAYS:
            return True, "", upstream
        if job.when is When.ON_FAILURE:
            if upstream:
                return True, "", upstream
            return False, "when: on_failure and nothing before it failed", upstream
        if failed:
            return False, f"{failed[0]} failed", upstream
        return True, "", upstream

    # -- the action ------------------------------------------------------------------

    async def __call__(self, ctx: StepContext) -> StepOutcome:
        job, state = self.job, self.state
        record = JobRecord(job.name, JobStatus.SKIPPED, stage=job.stage)
        state.results[job.name] = record
        try:
            run, why, upstream = self._gate()
        except PipelineError as exc:  # a runtime condition that cannot be evaluated
            return self._condition_failed(record, exc)
        if not run:
            record.message = why
            record.upstream_failure = upstream
            return self._finish(record, HostStatus.SKIPPED)
        started = time.monotonic()
        log = JobLog(state.log_path(job.name), state.masker)
        log.ctx = ctx
        record.log_path = log.path
        try:
            if job.resource_group:
                async with state.resource_group(job.resource_group, log.note):
                    await self._run(ctx, record, log)
            else:
                await self._run(ctx, record, log)
        except asyncio.CancelledError:
            record.status = JobStatus.CANCELED
            record.message = "interrupted"
            log.note("interrupted: the job's processes were killed")
            raise
        finally:
            record.duration = time.monotonic() - started
            log.close()
        if record.status.failed:
            allowed = job.allow_failure.allows(record.exit_code)
            record.allowed_failure = allowed
            if job.fail_fast and job.matrix_of and not allowed:
                state.failed_groups.add(job.matrix_of)
            status = (
                HostStatus.OK
                if allowed
                else (
                    HostStatus.TIMED_OUT
                    if record.status is JobStatus.TIMED_OUT
                    else HostStatus.FAILED
                )
            )
            return self._finish(record, status)
        if record.status is JobStatus.CACHED:
            return self._finish(record, HostStatus.SKIPPED)
        return self._finish(record, HostStatus.OK)

    def _condition_failed(self, record: JobRecord, exc: PipelineError) -> StepOutcome:
        """The job fails (not skipped) when its condition fails to evaluate (GitHub's
        ``if:`` with a bad ``fromJSON``); ``allow_failure`` (continue-on-error) applies."""
        log = JobLog(self.state.log_path(self.job.name), self.state.masker)
        log.note(f"error: {exc}")
        log.close()
        record.log_path = log.path
        record.status = JobStatus.FAILED
        record.message = self.state.masker.mask(str(exc))  # it may quote a value
        record.allowed_failure = self.job.allow_failure.allows(None)
        return self._finish(record, HostStatus.OK if record.allowed_failure else HostStatus.FAILED)

    def _finish(self, record: JobRecord, status: HostStatus) -> StepOutcome:
        return StepOutcome(
            status,
            message=record.message,
            data={
                "job_status": record.status.value,
                "allowed_failure": record.allowed_failure,
                "exit_code": record.exit_code,
                "attempts": record.attempts,
                "executor": record.executor,
                "log": str(record.log_path) if record.log_path else None,
                "stage": record.stage,
            },
        )

    def _env(self, workdir: Path | None = None) -> dict[str, str]:
        """The job's variables (expanded), dotenv of the jobs it waited for, ``--var``."""
        state, job = self.state, self.job
        where = workdir or state.root
        base = {
            **state.base_env,
            "CI": "true",
            "OPSFORGE_WORKDIR": str(where),
            "OPSFORGE_PROJECT_DIR": str(state.root),
            "OPSFORGE_JOB_NAME": job.name,
            "OPSFORGE_RUN_ID": state.run_id,
        }
        env = dict(base)
        env.update(resolve_variables(job.variables, base))
        files = [name for name, var in job.variables.items() if var.file]
        if files:  # file variables: the job sees the path of a private file holding the value
            directory = state.job_dir("tmp", job.name) / "files"
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            for name in files:
                path = directory / name
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(env[name])
                env[name] = str(path)
        for dep in self.planned.deps:
            record = state.results.get(dep)
            if record is not None:
                env.update(record.dotenv)
        env.update(state.settings.variables)
        for name in job.cache_dirs:
            directory = state.cache_dir / "dirs" / safe_name(name)
            directory.mkdir(parents=True, exist_ok=True)
            env[cache_dir_variable(name)] = str(directory)
        return env

    async def _run(self, ctx: StepContext, record: JobRecord, log: JobLog) -> None:
        job, state = self.job, self.state
        if job.trigger is not None:
            await self._trigger(record, log)
            return
        mark = None
        if job.inputs:
            mark = fingerprint(job, state.root)
            if is_up_to_date(job, state.uptodate_dir, mark):
                record.status = JobStatus.CACHED
                record.message = "up to date: inputs and commands unchanged (cached)"
                kept = self._kept_artifacts()
                if kept.is_dir():
                    record.artifacts_dir = kept
                log.note(record.message)
                return
        attempt_no = 0
        while True:
            attempt_no += 1
            record.attempts = attempt_no
            attempt, workdir = await self._attempt(ctx, record, log)
            if attempt.status is JobStatus.SUCCESS or attempt_no > job.retry.max:
                break
            if not _retry_wanted(job, attempt) or ctx.cancelled:
                break
            log.note(f"attempt {attempt_no} {attempt.status.value}: {attempt.message}; retrying")
            ctx.emit(
                StepRetrying(
                    run_id=ctx.run_id,
                    host=ctx.host,
                    step_id=job.name,
                    attempt=attempt_no,
                    delay=job.retry.delay,
                    reason=attempt.message,
                    retries_left=job.retry.max + 1 - attempt_no,
                )
            )
            if job.retry.delay:
                await asyncio.sleep(job.retry.delay)
        record.status = attempt.status
        record.exit_code = attempt.exit_code
        record.message = attempt.message
        if mark is not None and attempt.status is JobStatus.SUCCESS:
            kept = self._kept_artifacts()
            await asyncio.to_thread(shutil.rmtree, kept, True)
            if record.artifacts_dir is not None:  # a cached run hands on the same artifacts
                await asyncio.to_thread(copy_tree, record.artifacts_dir, kept)
            record_up_to_date(job, state.uptodate_dir, mark)
        if workdir != state.root and not state.settings.keep_workdirs:
            await asyncio.to_thread(shutil.rmtree, workdir, True)

    async def _attempt(
        self, ctx: StepContext, record: JobRecord, log: JobLog
    ) -> tuple[_Attempt, Path]:
        job, state = self.job, self.state
        ssh = runs_over_ssh(job)  # an ssh job always gets its own local (staging) workdir
        if state.settings.in_place and not ssh:
            workdir = state.root
        else:
            workdir = await asyncio.to_thread(state.workspace.job_dir, job.name, isolated=True)
        env = self._env(workdir)
        if (ssh or not state.settings.in_place) and self.planned.artifacts_from:
            await asyncio.to_thread(self._fetch_artifacts, workdir, log)
        keys = []
        for cache in job.cache:
            key = cache_key(cache, env, workdir)
            keys.append(key)
            hit = await asyncio.to_thread(restore_cache, cache, key, state.cache_dir, workdir)
            log.note(f"cache {key}: {'restored from ' + hit if hit else 'miss'}")
        try:
            steps = StepSequence(self, workdir=workdir, env=env, log=log, ctx=ctx)
        except OpsforgeError as exc:
            log.note(f"error: {exc}")
            return _Attempt(JobStatus.FAILED, None, str(exc)), workdir
        record.executor = steps.executor_name
        remote = steps.remote
        try:
            return await self._steps(steps, record, log, keys), workdir
        finally:
            if remote is not None and not state.settings.keep_workdirs:
                try:
                    await remote.close()
                except OpsforgeError as exc:
                    log.note(f"warning: {exc}")

    async def _steps(
        self, steps: StepSequence, record: JobRecord, log: JobLog, keys: list[str]
    ) -> _Attempt:
        """Steps under the job timeout, after_steps, artifacts, reports and caches out."""
        job, state, workdir, remote = self.job, self.state, steps.workdir, steps.remote
        attempt = _Attempt(JobStatus.SUCCESS, 0, "")
        ran = remote is None  # an ssh job runs once its files are on the host
        try:  # services (docker executor) live from before the steps to after after_steps
            try:
                async with asyncio.timeout(job.timeout) as scope:
                    if remote is not None:
                        size = await remote.open()
                        ran = True
                        log.note(
                            f"workdir on {remote.spec.name}: {remote.remote.work} ({size} bytes)"
                        )
                    failure = await steps.start_services()
                    if failure is None:
                        failure = await steps.run((*job.before_steps, *job.steps))
                if failure is not None:
                    attempt = _Attempt(JobStatus.FAILED, failure[0], failure[1])
            except (TimeoutError, CommandTimeout) as exc:
                if isinstance(exc, TimeoutError) and not scope.expired():
                    raise
                message = f"timed out after {job.timeout:g}s" if job.timeout else str(exc)
                attempt = _Attempt(JobStatus.TIMED_OUT, None, message)
                log.note(message + "; its process group was killed")
            except (ConnectError, TransferError) as exc:  # the job's files could not be shipped
                log.note(f"error: {exc}")
                attempt = _Attempt(JobStatus.FAILED, None, str(exc))
            if not ran:
                return attempt
            success = attempt.status is JobStatus.SUCCESS
            if job.after_steps:
                steps.job_status = "success" if success else "failure"
                steps.env["CI_JOB_STATUS"] = "success" if success else "failed"
                await steps.run_after(job.after_steps, state.settings.after_script_timeout)
        finally:
            await steps.stop_services()
        try:
            if remote is not None and (job.artifacts is not None or job.cache):
                count = await remote.collect(lambda tree: self._selected(tree, success))
                log.note(f"fetched {count} files from {remote.spec.name}")
            if job.artifacts is not None:
                await asyncio.to_thread(self._collect, workdir, success, record, log)
        except (PipelineError, ConnectError, TransferError) as exc:
            log.note(f"error: {exc}")
            attempt = _Attempt(JobStatus.FAILED, None, str(exc))
            if remote is not None:
                return attempt  # the local mirror is incomplete: nothing to save from it
        for cache, key in zip(job.cache, keys, strict=True):
            count = await asyncio.to_thread(
                save_cache, cache, key, state.cache_dir, workdir, success=success
            )
            if count >= 0:
                log.note(f"cache {key}: saved {count} files")
        try:
            record.outputs = steps.job_outputs()
        except PipelineError as exc:  # an output expression failing at run time fails the job
            log.note(f"error: {exc}")
            attempt = _Attempt(JobStatus.FAILED, None, self.state.masker.mask(str(exc)))
        return attempt

    def _kept_artifacts(self) -> Path:
        return self.state.uptodate_dir / f"{safe_name(self.job.name)}.artifacts"

    async def _trigger(self, record: JobRecord, log: JobLog) -> None:
        """Run the child pipeline here; with ``strategy: depend`` its result is ours."""
        from opsforge.pipelines.planner import plan_pipeline
        from opsforge.pipelines.run import run_pipeline

        job, state = self.job, self.state
        assert job.trigger is not None
        child = state.plan.pipeline.children.get(job.name)
        record.attempts = 1
        record.executor = "child pipeline"
        if child is None:
            record.status, record.message = JobStatus.FAILED, "child pipeline not loaded"
            return
        log.note(f"child pipeline {child.source.path}")

        def forward(event: Event) -> None:
            if isinstance(event, StepOutput):
                log.feed("stdout", f"[{event.step_id}] {event.text}\n")

        settings = replace(state.settings, run_dir=state.run_dir / "children" / safe_name(job.name))
        run = await run_pipeline(plan_pipeline(child), settings, subscribers=[forward])
        failed = [r.name for r in run.records.values() if r.status.failed and not r.allowed_failure]
        log.note(f"child pipeline {'failed: ' + ', '.join(failed) if failed else 'passed'}")
        if failed and job.trigger.depend:
            record.status = JobStatus.FAILED
            record.message = f"child pipeline failed ({', '.join(failed)})"
        else:
            record.status = JobStatus.SUCCESS

    # -- artifacts -------------------------------------------------------------------

    def _fetch_artifacts(self, workdir: Path, log: JobLog) -> None:
        for name in self.planned.artifacts_from:
            record = self.state.results.get(name)
            if record is not None and record.artifacts_dir is not None:
                count = copy_tree(record.artifacts_dir, workdir)
                log.note(f"artifacts of {name}: {count} files")

    def _collect(self, workdir: Path, success: bool, record: JobRecord, log: JobLog) -> None:
        art = self.job.artifacts
        if art is None:
            return
        if _artifacts_wanted(art, success) and art.paths:
            rels = match_files(workdir, art.paths, art.exclude)
            dest = self.state.job_dir("artifacts", self.job.name)
            if dest.exists():
                shutil.rmtree(dest)
            dest.mkdir(parents=True)
            store_files(workdir, rels, dest)
            record.artifacts_dir = dest
            log.note(f"artifacts: {len(rels)} files")
            if not rels:
                log.note(f"warning: artifacts paths matched no files: {', '.join(art.paths)}")
        reports = self.state.job_dir("reports", self.job.name)
        for kind, patterns in art.reports.items():
            rels = match_files(workdir, patterns)
            if kind == "dotenv":
                for rel in rels:
                    record.dotenv.update(parse_dotenv(workdir / rel))
            elif kind == "junit":
                store_files(workdir, rels, reports / "junit")
                record.junit_reports.extend(reports / "junit" / rel for rel in rels)
            if rels:
                log.note(f"report {kind}: {', '.join(rels)}")
        if self.state.settings.in_place and runs_over_ssh(self.job) and record.artifacts_dir:
            copy_tree(record.artifacts_dir, self.state.root)  # as if the job had run here

    def _selected(self, workdir: Path, success: bool) -> set[str]:
        """What :meth:`_collect` and the cache saves will read from ``workdir``."""
        art, chosen = self.job.artifacts, set[str]()
        if art is not None:
            if _artifacts_wanted(art, success):
                chosen.update(match_files(workdir, art.paths, art.exclude))
            for patterns in art.reports.values():
                chosen.update(match_files(workdir, patterns))
        for cache in self.job.cache:
            if cache_saves(cache, success=success):
                chosen.update(match_files(workdir, cache.paths))
        return chosen
