"""Running a job's steps in order on its executor, with per-step env/output files.

Shell steps are written to a script file (``<run_dir>/tmp/<job>/step-N.sh``, private)
and run by the executor; other step kinds go to their handler in
:mod:`opsforge.pipelines.steps`. After each step the runner reads back the files
named in :attr:`Job.step_files` (env, output, path, summary).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from opsforge.engine import StepContext
from opsforge.errors import CommandTimeout, OpsforgeError, UsageError
from opsforge.pipelines.caching import cache_dir_variable
from opsforge.pipelines.executors import (
    DockerExecutor,
    ScriptExecutor,
    ScriptRun,
    ShellExecutor,
    SSHExecutor,
    default_shell,
)
from opsforge.pipelines.joblog import JobLog
from opsforge.pipelines.model import Job, Step, StepFile
from opsforge.pipelines.records import LiveView, StepRecord
from opsforge.pipelines.services import JobServices, plan_services, resource_name
from opsforge.pipelines.steps import StepCall, step_handler
from opsforge.pipelines.variables import expand
from opsforge.pipelines.workspace import safe_name
from opsforge.types import Secret

if TYPE_CHECKING:
    from opsforge.pipelines.jobrun import JobAction

__all__ = ["StepSequence", "runs_over_ssh"]

#: built-in steps an ssh job may have: they do not need the job's files on the host
_SSH_LOCAL_STEPS = frozenset({"checkout", "deploy"})
_HEREDOC = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)<<(.+)$")


def parse_key_values(text: str) -> dict[str, str]:
    """``NAME=value`` lines and ``NAME<<DELIM`` ... ``DELIM`` blocks (GitHub env/output files)."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        heredoc = _HEREDOC.match(line)
        if heredoc:
            name, delim = heredoc.groups()
            body: list[str] = []
            while i < len(lines) and lines[i] != delim:
                body.append(lines[i])
                i += 1
            i += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value
    return values


def runs_over_ssh(job: Job) -> bool:
    """The job runs on an inventory host (``executor: ssh``, or ``host:`` alone)."""
    return job.executor == "ssh" or (bool(job.host) and job.executor is None)


class StepSequence:
    """The steps of one attempt of one job."""

    def __init__(
        self,
        action: JobAction,
        *,
        workdir: Path,
        env: dict[str, str],
        log: JobLog,
        ctx: StepContext,
    ) -> None:
        self.action = action
        self.job = action.job
        self.state = action.state
        self.workdir = workdir
        self.env = env
        self.log = log
        self.ctx = ctx
        self.job_status = "success"
        self.records: dict[str, StepRecord] = {}
        self.summary: list[str] = []
        self._count = 0
        self._tmp = self.state.job_dir("tmp", self.job.name)
        self._tmp.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.services: JobServices | None = None
        self.executor = self._choose_executor()
        self.executor_name = self.executor.name

    def _choose_executor(self) -> ScriptExecutor:
        job, state = self.job, self.state
        if runs_over_ssh(job):
            if not job.host:
                raise UsageError(f"job {job.name}: executor ssh needs host: <inventory host>")
            self._services_not_started(f"the job runs on {job.host} over ssh")
            name = f"opsforge-{state.run_id}-{safe_name(job.name)}"
            spec = state.host_spec(job.host)
            dirs = {cache_dir_variable(d): safe_name(d) for d in job.cache_dirs}
            return SSHExecutor(
                spec, state.pool, name, self.workdir, self._tmp, dirs, state.base_env
            )
        if state.settings.executor == "shell" or job.image is None or job.executor == "shell":
            self._services_not_started("the job runs in the shell executor")
            return ShellExecutor()
        image = expand(job.image.name, self.env)  # GitLab: `image: python:$PY_VERSION`
        problem = state.docker.problem()
        if problem is None and state.docker.image(image) is None:
            problem = f"image {image} is not present locally (opsforge never pulls)"
        if problem:
            unstarted = f"; services not started: {self._service_names()}" if job.services else ""
            self.log.note(
                f"warning: {problem}; running {job.name} in the shell executor{unstarted}"
            )
            return ShellExecutor()
        stem = resource_name(state.run_id, job.name)
        labels = {"opsforge.run": state.run_id, "opsforge.job": job.name}
        network = None
        if job.services:
            style = state.plan.pipeline.format
            job_env = {k: self.env[k] for k in job.variables if k in self.env}
            planned = plan_services(
                job, style=style, job_env=job_env, docker=state.docker, stem=stem
            )
            self.services = JobServices(
                planned, stem=stem, labels=labels, log=self.log,
                shared_localhost=style == "circleci",
                wait_timeout=state.settings.services_timeout,
            )  # fmt: skip
            network = self.services.step_network
        return DockerExecutor(image, stem, network=network, labels=labels, base_env=state.base_env)

    def _service_names(self) -> str:
        return ", ".join(s.alias or s.name for s in self.job.services)

    def _services_not_started(self, why: str) -> None:
        if self.job.services:
            self.log.note(f"warning: services not started ({why}): {self._service_names()}")

    async def start_services(self) -> tuple[int | None, str] | None:
        """Start the job's services (docker executor); the failure, or None."""
        if self.services is None:
            return None
        problem = await self.services.start()
        if problem is not None:
            self.log.note(f"error: {problem}")
            return None, problem
        return None

    async def stop_services(self) -> None:
        """Remove the job's services and their network (always called, once)."""
        if self.services is not None:
            await self.services.stop()

    @property
    def remote(self) -> SSHExecutor | None:
        """The ssh executor when the job runs on a host (its files ship there)."""
        return self.executor if isinstance(self.executor, SSHExecutor) else None

    def _view(self) -> LiveView:
        needs = {d: self.state.results[d] for d in self.action.planned.deps}
        return LiveView(
            self.job,
            env=self.env,
            needs={k: v for k, v in needs.items()},
            steps=self.records,
            workdir=self.workdir,
            job_status=self.job_status,
            cancelled=self.ctx.cancelled,
        )

    def job_outputs(self) -> dict[str, str]:
        job = self.job
        if job.resolve_outputs is not None:
            return dict(job.resolve_outputs(self._view()))
        return {k: expand(v, self.env) for k, v in job.outputs.items()}

    async def run(self, steps: Sequence[Step]) -> tuple[int | None, str] | None:
        """Run ``steps``; return the first failure (exit code, message), or None.

        After a failure only steps with a runtime condition are still considered (it
        sees ``job_status == "failure"``: GitHub's ``if: failure()``/``always()``);
        the others are skipped.
        """
        failure: tuple[int | None, str] | None = None
        for step in steps:
            if failure is not None and (step.condition is None or step.condition.check is None):
                self._record(step, "skipped", "skipped")
                continue
            code, message = await self._one(step)
            if code != 0 and failure is None:
                self.job_status = "failure"
                failure = (code, message)
        return failure

    async def run_after(self, steps: Sequence[Step], time_limit: float) -> None:
        """After-steps: each runs whatever happens; a failure is only noted."""
        for step in steps:
            try:
                code, message = await self._one(step, time_limit=time_limit)
            except CommandTimeout:
                code, message = None, f"timed out after {time_limit:g}s"
            if code != 0:
                self.log.note(f"after_script failed ({message}); ignored")

    async def _one(self, step: Step, time_limit: float | None = None) -> tuple[int | None, str]:
        self._count += 1
        index = self._count
        if step.prepare is not None:
            prepared = step.prepare(self._view())
            if prepared is None:
                self._record(step, "skipped", "skipped")
                return 0, ""
            step = prepared
        check = step.condition.check if step.condition is not None else None
        if check is not None and not check(self._view()):
            self._record(step, "skipped", "skipped")
            return 0, ""
        if step.echo:
            self.log.note(f"$ {step.label}")
        files = {
            name: self._tmp / f"step-{index}.{kind.value}"
            for name, kind in self.job.step_files.items()
        }
        for path in files.values():
            path.write_text("")
        env = dict(self.env)
        for key, value in step.env.items():
            raw = value.reveal() if isinstance(value, Secret) else value
            env[key] = expand(raw, self.env, keep_unknown=True)
        env.update({name: str(path) for name, path in files.items()})
        cwd = self.workdir
        subdir = step.working_directory or self.job.working_directory
        if subdir:
            cwd = self.workdir / expand(subdir, env)
        reason = None  # why the step failed when it is not an exit code
        try:
            code = await self._execute(step, index, env, cwd, time_limit)
        except CommandTimeout:
            if step.timeout is None:
                raise
            code = None
            self.log.note(f"step timed out after {step.timeout:g}s; its process group was killed")
        except OpsforgeError as exc:
            self.log.note(f"error: {exc}")
            code, reason = 1, str(exc)
        self._read_files(files)
        outcome = "success" if code == 0 else "failure"
        conclusion = "success" if code == 0 or step.continue_on_error else "failure"
        self._record(step, outcome, conclusion, files)
        if code != 0 and step.continue_on_error:
            self.log.note(f"{step.label}: failed (exit {code}), continue-on-error")
            return 0, ""
        if reason is not None:
            return code, reason
        where = f" ({step.source})" if step.source else ""
        return code, f"{step.label or 'script'}{where} exited with {code}"

    async def _execute(
        self, step: Step, index: int, env: dict[str, str], cwd: Path, time_limit: float | None
    ) -> int | None:
        limit = step.timeout if step.timeout is not None else time_limit
        if step.kind != "shell":
            if self.remote is not None and step.kind not in _SSH_LOCAL_STEPS:
                raise UsageError(
                    f"built-in step {step.kind} runs on this machine and cannot see the "
                    f"files on {self.job.host}: hand files on with artifacts: instead"
                )
            handler = step_handler(step.kind)
            call = StepCall(
                step=step, job=self.job, workdir=cwd, env=env, log=self.log, state=self.state
            )
            return await handler(call)
        script = self._tmp / f"step-{index}.sh"
        fd = os.open(script, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o700)
        with os.fdopen(fd, "w") as handle:
            handle.write(step.run if step.run.endswith("\n") else step.run + "\n")
        shell = step.shell or self.job.shell or default_shell()
        job_env = {k: env[k] for k in (*self.job.variables, *step.env) if k in env}
        run = ScriptRun(script, shell, env, job_env, cwd, limit, self.log.stdout, self.log.stderr)
        result = await self.executor.run_script(run)
        self.log.flush()
        return result.exit_code

    def _read_files(self, files: Mapping[str, Path]) -> None:
        for name, path in files.items():
            kind = self.job.step_files[name]
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if kind is StepFile.ENV:
                self.env.update(parse_key_values(text))
            elif kind is StepFile.PATH:
                dirs = [line.strip() for line in text.splitlines() if line.strip()]
                if dirs:
                    self.env["PATH"] = os.pathsep.join([*reversed(dirs), self.env.get("PATH", "")])
            elif kind is StepFile.SUMMARY and text:
                self.summary.append(text)

    def _record(
        self, step: Step, outcome: str, conclusion: str, files: Mapping[str, Path] | None = None
    ) -> None:
        if step.id is None:
            return
        outputs: dict[str, str] = {}
        for name, path in (files or {}).items():
            if self.job.step_files[name] is StepFile.OUTPUT and path.exists():
                outputs = parse_key_values(path.read_text(encoding="utf-8", errors="replace"))
        self.records[step.id] = StepRecord(outcome, conclusion, outputs)
