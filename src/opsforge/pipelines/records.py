"""What a run knows about its jobs while and after they run (also the :class:`RuntimeView`)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from opsforge.pipelines.model import Job

__all__ = ["JobRecord", "JobStatus", "LiveView", "StepRecord"]


class JobStatus(enum.StrEnum):
    """A job's status in a pipeline run (what the recap, JUnit and JSON show)."""

    SUCCESS = "success"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    SKIPPED = "skipped"  # its condition/when said no, or a dependency failed
    CACHED = "cached"  # up to date: inputs and commands unchanged since the last success
    MANUAL = "manual"  # a manual job that was not named
    NOT_RUN = "not_run"  # not selected
    CANCELED = "canceled"  # interrupted

    @property
    def failed(self) -> bool:
        return self in (JobStatus.FAILED, JobStatus.TIMED_OUT)

    @property
    def github(self) -> str:
        """The GitHub name: success / failure / skipped / cancelled."""
        if self.failed:
            return "failure"
        if self is JobStatus.CANCELED:
            return "cancelled"
        if self in (JobStatus.SUCCESS, JobStatus.CACHED):
            return "success"
        return "skipped"


@dataclass(slots=True)
class StepRecord:
    """A finished step (GitHub ``steps.<id>``)."""

    outcome: str
    conclusion: str
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class JobRecord:
    """How a job ended. ``allowed_failure``: failed, but allowed to. ``upstream_failure``:
    skipped because something before it failed (``when: on_failure`` jobs look at it)."""

    name: str
    status: JobStatus
    message: str = ""
    allowed_failure: bool = False
    upstream_failure: bool = False
    exit_code: int | None = None
    attempts: int = 0
    duration: float = 0.0
    executor: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    dotenv: dict[str, str] = field(default_factory=dict)
    artifacts_dir: Path | None = None
    junit_reports: list[Path] = field(default_factory=list)
    log_path: Path | None = None
    stage: str = ""

    @property
    def blocks_success(self) -> bool:
        """True if dependents with ``when: on_success`` must not run."""
        if self.status.failed:
            return not self.allowed_failure
        return self.upstream_failure or self.status is JobStatus.CANCELED

    @property
    def dotenv_values(self) -> Mapping[str, str]:
        return self.dotenv

    # JobResultView
    @property
    def gh_status(self) -> str:
        return self.status.github


class _NeedView:
    """A :class:`~opsforge.pipelines.model.JobResultView` of a record."""

    __slots__ = ("_record",)

    def __init__(self, record: JobRecord) -> None:
        self._record = record

    @property
    def status(self) -> str:
        return self._record.status.github

    @property
    def outputs(self) -> Mapping[str, str]:
        return self._record.outputs

    @property
    def dotenv(self) -> Mapping[str, str]:
        return self._record.dotenv


class LiveView:
    """The :class:`~opsforge.pipelines.model.RuntimeView` handed to runtime hooks."""

    def __init__(
        self,
        job: Job,
        *,
        env: Mapping[str, str],
        needs: Mapping[str, JobRecord],
        steps: Mapping[str, StepRecord],
        workdir: Path,
        job_status: str = "success",
        cancelled: bool = False,
    ) -> None:
        self._job = job
        self._env = env
        self._needs = {name: _NeedView(rec) for name, rec in needs.items()}
        self._steps = steps
        self._workdir = workdir
        self._job_status = job_status
        self._cancelled = cancelled

    @property
    def job(self) -> Job:
        return self._job

    @property
    def env(self) -> Mapping[str, str]:
        return self._env

    @property
    def needs(self) -> Mapping[str, _NeedView]:
        return self._needs

    @property
    def steps(self) -> Mapping[str, StepRecord]:
        return self._steps

    @property
    def job_status(self) -> str:
        return self._job_status

    @property
    def workdir(self) -> Path:
        return self._workdir

    @property
    def cancelled(self) -> bool:
        return self._cancelled
