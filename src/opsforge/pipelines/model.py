"""The one typed pipeline model: every front-end loads into it, the engine runs only it.

A front-end (native YAML/Python, GitLab CI, GitHub Actions, CircleCI, Jenkins; see
:mod:`opsforge.pipelines.formats`) reads its file(s) and returns one
:class:`Pipeline`. Everything here is frozen data: the planner
(:mod:`opsforge.pipelines.planner`) turns it into an engine plan, ``pipeline
list/graph/explain`` print it, ``pipeline export`` writes it out again.

How a front-end fills it
------------------------
* **Resolve everything static at load time.** Templates, ``extends``, anchors,
  ``default:``, includes, ``rules``/``only``/``except``, ``workflow:rules``,
  ``parallel``/``matrix`` expansion, CircleCI ``<< parameters.x >>``: all done by the
  front-end. The model holds the *result*: one :class:`Job` per concrete job (one per
  matrix cell, named the way the source system shows it, e.g. ``test: [3.12, linux]``
  or ``build 2/4``), with :attr:`Job.matrix` holding the cell values.
* **Jobs left out** by rules, filters or ``runs-on`` go into
  :attr:`Pipeline.excluded` with the reason (``pipeline explain`` shows it). A job
  kept in the plan records why in :attr:`Job.condition` (``reason``: "rule 2 matched:
  $CI_COMMIT_BRANCH == "main"").
* **Ordering**: :attr:`Job.needs` is ``None`` for stage ordering (the job waits for
  every job of earlier stages in :attr:`Pipeline.stages`), or a tuple of
  :class:`Need` (``()`` = starts at once). GitHub/CircleCI/Jenkins front-ends give
  explicit needs (Jenkins sequential stages: the jobs of the previous stage).
* **Variables** are merged by the front-end with its own precedence (GitLab:
  job over global over predefined ``CI_*``): :attr:`Job.variables` is the complete
  set for the job, values unexpanded (``$VAR`` references are expanded by the runner
  in order, unless :attr:`Variable.raw`). CLI ``--var`` values are applied by the
  engine on top. Anything secret is a :class:`~opsforge.types.Secret` or has
  ``masked=True``; it is masked in every log line (also base64 of it).
* **Scripts**: :attr:`Job.steps` are run in order in one workdir. A
  :class:`Step` of kind ``"shell"`` runs :attr:`Step.run` through
  :attr:`Step.shell` (default ``bash -e`` / ``sh -e``); other kinds are built-in step
  types (``deploy``, ``upload_artifact``, ``download_artifact``, ``cache_save``,
  ``cache_restore``, ``checkout``, ...; see :mod:`opsforge.pipelines.steps`) with
  parameters in :attr:`Step.params`. :attr:`Job.before_steps` run first in the same
  shell session semantics as GitLab (failure fails the job); :attr:`Job.after_steps`
  always run afterwards, their failure is ignored, and they run *before* artifacts
  are collected.
* **Runtime decisions** that cannot be made at load time (GitHub ``if:`` with
  ``failure()``, ``steps.x.outputs.y``; ``${{ }}`` in a step) are callables in the
  model: :attr:`Condition.check` (called just before the job or step would start,
  with a :class:`RuntimeView`) and :attr:`Step.prepare` (returns the concrete step).
  Static front-ends leave them ``None``.
* **Files a step writes for the runner** (``GITHUB_ENV``, ``GITHUB_OUTPUT``,
  ``GITHUB_PATH``, ``GITHUB_STEP_SUMMARY``): :attr:`Job.step_files` maps the
  environment variable name to a :class:`StepFile` kind; the runner creates a fresh
  file per step, exports its path under that name and reads it back afterwards.
* **Source locations**: every job and step carries :class:`SourceLocation` (file and
  1-based line) so errors and ``explain`` can point at the user's file.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from opsforge.types import Secret

__all__ = [
    "AllowFailure",
    "ArtifactWhen",
    "Artifacts",
    "Cache",
    "CachePolicy",
    "Condition",
    "ExcludedJob",
    "Image",
    "Job",
    "JobResultView",
    "Need",
    "Pipeline",
    "Retry",
    "RuntimeView",
    "Service",
    "SourceLocation",
    "Step",
    "StepFile",
    "StepResultView",
    "Trigger",
    "Variable",
    "When",
]


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where something was written: file path and 1-based line (None if unknown)."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path


class When(enum.StrEnum):
    """When a job runs, relative to the jobs before it (GitLab ``when:``)."""

    ON_SUCCESS = "on_success"  # every need / earlier-stage job succeeded (or allowed to fail)
    ON_FAILURE = "on_failure"  # at least one of them failed
    ALWAYS = "always"  # whatever happened before
    MANUAL = "manual"  # only when named on the command line (then like on_success)
    DELAYED = "delayed"  # GitLab start_in: treated as on_success locally


class ArtifactWhen(enum.StrEnum):
    ON_SUCCESS = "on_success"
    ON_FAILURE = "on_failure"
    ALWAYS = "always"


class CachePolicy(enum.StrEnum):
    PULL_PUSH = "pull-push"
    PULL = "pull"
    PUSH = "push"


class StepFile(enum.StrEnum):
    """Files the runner gives each step and reads back afterwards."""

    ENV = "env"  # NAME=value lines (and NAME<<EOF heredocs): env of later steps
    OUTPUT = "output"  # NAME=value lines: outputs of the step (steps.<id>.outputs)
    PATH = "path"  # one directory per line, prepended to PATH for later steps
    SUMMARY = "summary"  # Markdown appended to the job's summary


@dataclass(frozen=True, slots=True)
class Variable:
    """One variable. ``raw``: no ``$VAR`` expansion. ``file``: the job gets a path to a
    temporary file holding the value (GitLab file variables). ``masked``: masked in logs
    (a :class:`Secret` value is always masked)."""

    value: str | Secret
    masked: bool = False
    raw: bool = False
    file: bool = False
    source: SourceLocation | None = None

    @property
    def is_secret(self) -> bool:
        return self.masked or isinstance(self.value, Secret)

    def reveal(self) -> str:
        value = self.value
        return value.reveal() if isinstance(value, Secret) else value


@dataclass(frozen=True, slots=True)
class Need:
    """A dependency on another job (by its final, expanded name).

    ``optional``: ignored when the job is not in the pipeline. ``artifacts``: fetch
    its artifacts into this job's workdir (GitLab ``needs: [{job, artifacts}]``).
    """

    job: str
    optional: bool = False
    artifacts: bool = True


@dataclass(frozen=True, slots=True)
class Condition:
    """Why a job (or step) is in the plan, plus an optional runtime check.

    ``expression``: the condition as written (``$CI_COMMIT_BRANCH == "main"``,
    ``${{ failure() }}``), for ``explain``. ``reason``: the load-time decision in
    words. ``check``: called just before the job/step would start; False = skipped
    with ``reason``. A check that raises an :class:`~opsforge.errors.InputError`
    fails the job with that message.
    """

    expression: str = ""
    reason: str = ""
    check: Callable[[RuntimeView], bool] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a job.

    ``kind`` ``"shell"``: ``run`` is a shell script, run with ``shell`` (a command
    line; ``{0}`` is replaced by the script path, else the path is appended;
    default ``bash -e {0}`` when bash exists, else ``sh -e {0}``). Other kinds are
    built-in step types with ``params``. ``echo``: print each command before running
    it (GitLab's ``$ cmd`` lines). ``id`` names the step for outputs.
    ``continue_on_error``: a failing step does not fail the job.
    ``prepare``: runtime hook returning the concrete step (expressions substituted),
    or None to skip it.
    """

    run: str = ""
    kind: str = "shell"
    name: str = ""
    id: str | None = None
    shell: str | None = None
    env: Mapping[str, str | Secret] = field(default_factory=dict)
    working_directory: str | None = None
    condition: Condition | None = None
    timeout: float | None = None
    continue_on_error: bool = False
    echo: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)
    prepare: Callable[[RuntimeView], Step | None] | None = field(default=None, compare=False)
    source: SourceLocation | None = None

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.kind == "shell":
            first = self.run.strip().splitlines()[0] if self.run.strip() else ""
            return first[:60]
        return self.kind


@dataclass(frozen=True, slots=True)
class Artifacts:
    """Files a job hands on: ``paths``/``exclude`` are globs relative to the workdir
    (``**`` allowed). ``reports``: report kind (``junit``, ``dotenv``) → globs.
    ``expose``: a name for the artifact set (GitHub upload-artifact ``name``)."""

    paths: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    when: ArtifactWhen = ArtifactWhen.ON_SUCCESS
    reports: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    name: str | None = None
    untracked: bool = False


@dataclass(frozen=True, slots=True)
class Cache:
    """One cache. The key is ``key`` (variables expanded at run time), or, with
    ``key_files``, ``key_prefix`` + a hash of those files' contents. ``paths`` are
    restored before the job and saved after it, as ``policy`` says. ``when``: save
    after success/failure/always. ``fallback_keys`` are tried on a miss."""

    paths: tuple[str, ...]
    key: str = "default"
    key_files: tuple[str, ...] = ()
    key_prefix: str = ""
    policy: CachePolicy = CachePolicy.PULL_PUSH
    when: ArtifactWhen = ArtifactWhen.ON_SUCCESS
    fallback_keys: tuple[str, ...] = ()
    untracked: bool = False


@dataclass(frozen=True, slots=True)
class Retry:
    """``max`` extra attempts (0-2 in GitLab) on the failure kinds in ``when``
    (GitLab names: ``always``, ``script_failure``, ``job_execution_timeout``, ...;
    empty = always). ``exit_codes``: retry only these exit codes (empty = any)."""

    max: int = 0
    when: tuple[str, ...] = ()
    exit_codes: tuple[int, ...] = ()
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class AllowFailure:
    """A failure that does not fail the pipeline. With ``exit_codes``, only those."""

    allowed: bool = False
    exit_codes: tuple[int, ...] = ()

    def allows(self, exit_code: int | None) -> bool:
        if not self.allowed:
            return False
        return not self.exit_codes or exit_code in self.exit_codes


@dataclass(frozen=True, slots=True)
class Image:
    name: str
    entrypoint: tuple[str, ...] | None = None
    pull_policy: tuple[str, ...] = ()
    user: str | None = None


@dataclass(frozen=True, slots=True)
class Service:
    """A container started beside the job (docker executor; see
    :mod:`opsforge.pipelines.services`). ``name``: the image. ``alias``: the hostname(s)
    the job reaches it by (GitLab: space/comma separated; GitHub: the service key).
    ``options``: extra ``docker run`` options (GitHub ``options:``)."""

    name: str
    alias: str | None = None
    command: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Trigger:
    """A child pipeline from a local file (GitLab ``trigger: include:``).
    ``depend``: the trigger job mirrors the child's status (``strategy: depend``)."""

    include: tuple[str, ...]
    depend: bool = False
    forward_variables: bool = True


@dataclass(frozen=True, slots=True)
class Job:
    """One concrete job (one matrix cell); see the module docstring for how to fill it.

    ``name`` is unique in the pipeline. ``matrix_of`` is the name of the job before
    expansion (the group for fail-fast and ``needs`` on the whole matrix);
    ``node_index``/``node_total`` are GitLab ``CI_NODE_INDEX``/``CI_NODE_TOTAL``.
    ``dependencies``: jobs whose artifacts are fetched (None = every need / every job
    of earlier stages; ``()`` = none). ``inputs``: native up-to-date globs (job
    skipped as cached when they and the commands are unchanged). ``cache_dirs``: named
    persistent directories (native), exported as ``OPSFORGE_CACHE_DIR_<NAME>``. ``executor``:
    ``"shell"``, ``"docker"`` or ``"ssh"`` (None = pick: docker when ``image`` is set
    and usable, else shell); ``host`` is the inventory host for ssh.
    ``outputs``: job outputs, name → expression/value, resolved at the end of the job
    by ``resolve_outputs`` (None = literal values).
    """

    name: str
    stage: str = "test"
    steps: tuple[Step, ...] = ()
    before_steps: tuple[Step, ...] = ()
    after_steps: tuple[Step, ...] = ()
    needs: tuple[Need, ...] | None = None
    dependencies: tuple[str, ...] | None = None
    when: When = When.ON_SUCCESS
    condition: Condition | None = None
    variables: Mapping[str, Variable] = field(default_factory=dict)
    matrix: Mapping[str, str] = field(default_factory=dict)
    matrix_of: str | None = None
    node_index: int | None = None
    node_total: int | None = None
    fail_fast: bool = False
    artifacts: Artifacts | None = None
    cache: tuple[Cache, ...] = ()
    timeout: float | None = None
    retry: Retry = field(default_factory=Retry)
    allow_failure: AllowFailure = field(default_factory=AllowFailure)
    image: Image | None = None
    services: tuple[Service, ...] = ()
    resource_group: str | None = None
    executor: str | None = None
    host: str | None = None
    working_directory: str | None = None
    shell: str | None = None
    step_files: Mapping[str, StepFile] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)
    resolve_outputs: Callable[[RuntimeView], Mapping[str, str]] | None = field(
        default=None, compare=False
    )
    inputs: tuple[str, ...] = ()
    cache_dirs: tuple[str, ...] = ()
    trigger: Trigger | None = None
    tags: tuple[str, ...] = ()
    environment: str | None = None
    source: SourceLocation | None = None

    @property
    def is_manual(self) -> bool:
        return self.when is When.MANUAL

    def need_names(self) -> tuple[str, ...]:
        return tuple(n.job for n in self.needs or ())


@dataclass(frozen=True, slots=True)
class ExcludedJob:
    """A job the front-end left out of the plan, and why (for ``list`` and ``explain``)."""

    name: str
    reason: str
    source: SourceLocation | None = None
    stage: str | None = None


@dataclass(frozen=True, slots=True)
class Pipeline:
    """A whole pipeline, loaded and resolved.

    ``format``: the front-end's name (``native``, ``gitlab``, ``github``, ...).
    ``root``: the project directory jobs run against. ``stages`` in order (only
    meaningful for jobs with ``needs=None``). ``runs``/``workflow_reason``: the
    result of workflow-level rules (GitLab ``workflow:rules``); a pipeline that
    does not run plans no jobs. ``warnings``: things the user should know
    (unsupported keys, skipped actions), each with its location.
    ``children``: child pipelines loaded for trigger jobs, by job name.
    """

    name: str
    format: str
    source: SourceLocation
    root: Path
    jobs: tuple[Job, ...]
    stages: tuple[str, ...] = ("build", "test", "deploy")
    variables: Mapping[str, Variable] = field(default_factory=dict)
    excluded: tuple[ExcludedJob, ...] = ()
    runs: bool = True
    workflow_reason: str = ""
    warnings: tuple[tuple[str, SourceLocation | None], ...] = ()
    children: Mapping[str, Pipeline] = field(default_factory=dict)

    def job(self, name: str) -> Job:
        for job in self.jobs:
            if job.name == name:
                return job
        raise KeyError(name)

    @property
    def job_names(self) -> tuple[str, ...]:
        return tuple(job.name for job in self.jobs)

    def secrets(self) -> tuple[str, ...]:
        """Every secret value the pipeline knows (for masking), longest first."""
        values: set[str] = set()
        for variables in (self.variables, *(job.variables for job in self.jobs)):
            values.update(v.reveal() for v in variables.values() if v.is_secret and v.reveal())
        for job in self.jobs:
            for step in (*job.before_steps, *job.steps, *job.after_steps):
                values.update(v.reveal() for v in step.env.values() if isinstance(v, Secret))
        return tuple(sorted(values, key=len, reverse=True))


# -- what runtime hooks see ---------------------------------------------------------


class StepResultView(Protocol):
    """A finished step of the current job (GitHub ``steps.<id>``)."""

    @property
    def outcome(self) -> str: ...  # success / failure / skipped (before continue-on-error)
    @property
    def conclusion(self) -> str: ...  # after continue-on-error
    @property
    def outputs(self) -> Mapping[str, str]: ...


class JobResultView(Protocol):
    """A finished job (GitHub ``needs.<job>``): status and what it produced."""

    @property
    def status(self) -> str: ...  # success / failure / skipped / cancelled / manual
    @property
    def outputs(self) -> Mapping[str, str]: ...
    @property
    def dotenv(self) -> Mapping[str, str]: ...


class RuntimeView(Protocol):
    """What :attr:`Condition.check`, :attr:`Step.prepare` and
    :attr:`Job.resolve_outputs` may read while a job runs."""

    @property
    def job(self) -> Job: ...
    @property
    def env(self) -> Mapping[str, str]: ...  # the job's env now (after ENV files)
    @property
    def needs(self) -> Mapping[str, JobResultView]: ...  # every job this one waited for
    @property
    def steps(self) -> Mapping[str, StepResultView]: ...  # finished steps with an id
    @property
    def job_status(self) -> str: ...  # success / failure / cancelled so far
    @property
    def workdir(self) -> Path: ...
    @property
    def cancelled(self) -> bool: ...
