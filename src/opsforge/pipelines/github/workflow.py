"""A GitHub Actions workflow file as a :class:`~opsforge.pipelines.model.Pipeline`.

One model job per job (per matrix cell: ``test (3.12, linux)``), ``needs`` on every
cell of the needed job, jobs whose ``runs-on`` this host cannot serve (or whose static
``if:`` is false) left out with the reason. Values GitHub fixes before a job starts
(matrix, ``runs-on``, env, ``timeout-minutes``, ``continue-on-error``) are rendered
here; everything that depends on the run (``needs``, ``steps``, status functions) is a
runtime hook (see :mod:`.steps` and :mod:`.runtime`).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opsforge.pipelines.errors import ExpressionError
from opsforge.pipelines.formats import LoadOptions
from opsforge.pipelines.github.context import (
    HostRunner,
    base_env,
    git_state,
    github_context,
    runs_on_mismatch,
)
from opsforge.pipelines.github.expr_values import to_number, to_string, truthy
from opsforge.pipelines.github.expressions import (
    Template,
    Where,
    compile_condition,
    compile_template,
)
from opsforge.pipelines.github.inputs import workflow_inputs
from opsforge.pipelines.github.matrix import MatrixError, cell_label, expand_matrix
from opsforge.pipelines.github.runtime import JobContext
from opsforge.pipelines.github.steps import StepBuilder
from opsforge.pipelines.github.triggers import filter_reason, triggers
from opsforge.pipelines.github.yaml_source import FileLoader, LineMap, line_of, load_yaml, location
from opsforge.pipelines.model import (
    AllowFailure,
    Condition,
    ExcludedJob,
    Image,
    Job,
    Need,
    Pipeline,
    RuntimeView,
    Service,
    SourceLocation,
    StepFile,
    Variable,
    When,
)
from opsforge.types import Secret

__all__ = ["load_workflow"]

WORKFLOW_KEYS = frozenset(
    {"name", "run-name", "on", "env", "defaults", "jobs", "permissions", "concurrency"}
)
JOB_KEYS = frozenset(
    {
        "name",
        "needs",
        "runs-on",
        "if",
        "steps",
        "env",
        "defaults",
        "strategy",
        "timeout-minutes",
        "continue-on-error",
        "outputs",
        "permissions",
        "concurrency",
        "environment",
        "container",
        "services",
        "uses",
        "with",
        "secrets",
    }
)
STEP_FILES = {
    "GITHUB_ENV": StepFile.ENV,
    "GITHUB_OUTPUT": StepFile.OUTPUT,
    "GITHUB_PATH": StepFile.PATH,
    "GITHUB_STEP_SUMMARY": StepFile.SUMMARY,
}
DEFAULT_TIMEOUT_MINUTES = 360


@dataclass(frozen=True)
class _Cell:
    job_id: str
    name: str
    raw: LineMap
    ctx: JobContext
    index: int
    total: int
    runtime_env: Mapping[str, Template]


class _Loader(FileLoader):
    def __init__(self, path: Path, options: LoadOptions) -> None:
        super().__init__(path, options)
        self.host = HostRunner()

    def load(self, path: Path) -> Pipeline:
        data = load_yaml(path, self.shown)
        if not isinstance(data, LineMap) or not isinstance(data.get("jobs"), LineMap):
            raise self.error("not a GitHub Actions workflow: no jobs: mapping", data)
        unknown = sorted(set(data) - WORKFLOW_KEYS)
        if unknown:
            raise self.error(f"unknown workflow keyword {unknown[0]!r}", data, unknown[0])
        name = to_string(data.get("name") or self.shown)
        event = {"merge_request_event": "pull_request"}.get(self.options.event, self.options.event)
        git = git_state(self.root, self.options.ref)
        if "on" in data and not isinstance(data["on"], str | list | Mapping):
            raise self.error("on: must be an event name, a list or a mapping", data, "on")
        events = triggers(data.get("on"))
        runs, reason = True, ""
        if events and event not in events:
            self.warnings.append(
                (
                    f"the workflow is not triggered by {event!r} "
                    f"(on: {', '.join(events)}); run as asked",
                    location(data, "on"),
                )
            )
        elif why := filter_reason(event, events.get(event), git):
            runs, reason = False, why
        inputs = workflow_inputs(
            events, self.options.inputs, event, self.shown, line_of(data, "on")
        )
        self.secrets = {k: v.reveal() for k, v in self.options.secrets.items()}
        self.github = github_context(git, name, event, inputs)
        self.inputs = inputs
        self.base_env = base_env(git, self.host, name, event)
        self.defaults = data.get("defaults")
        if self.defaults is not None and not isinstance(self.defaults, Mapping):
            raise self.error("defaults must be a mapping", data, "defaults")
        static = JobContext(
            "",
            self.github,
            {},
            {},
            {},
            self.host.context(),
            dict(self.options.variables),
            self.secrets,
            inputs,
        )
        self.workflow_env = self.render_env(data, static, None)
        self.jobs_map: LineMap = data["jobs"]
        cells = self.expand(data["jobs"])
        jobs = self.resolve_needs(data["jobs"], cells)
        return Pipeline(
            name=name,
            format="github",
            source=SourceLocation(self.shown, 1),
            root=self.root,
            jobs=tuple(jobs),
            stages=("jobs",),
            variables={k: Variable(v, raw=True) for k, v in self.base_env.items()},
            excluded=tuple(self.excluded),
            runs=runs,
            workflow_reason=reason,
            warnings=tuple(self.warnings),
        )

    def render_env(
        self,
        raw: LineMap,
        ctx: JobContext,
        job: str | None,
        runtime: dict[str, Template] | None = None,
    ) -> dict[str, str]:
        """``env:`` rendered now; entries that read ``needs`` go to ``runtime`` instead
        (rendered when each step starts)."""
        env = raw.get("env") or {}
        if not isinstance(env, Mapping):
            raise self.error("env must be a mapping", raw, "env", job)
        scope = ctx.static_scope(self.root)
        out = {}
        for key, value in env.items():
            template = compile_template(to_string(value), Where(self.shown, line_of(env, key), job))
            if runtime is not None and "needs" in template.contexts:
                runtime[str(key)] = template
                continue
            out[str(key)] = to_string(template.render(scope))
        return out

    def expand(self, jobs: LineMap) -> dict[str, list[_Cell]]:
        cells: dict[str, list[_Cell]] = {}
        for job_id, raw in jobs.items():
            if not isinstance(raw, LineMap):
                raise self.error("a job must be a mapping", jobs, job_id, job_id)
            unknown = sorted(set(raw) - JOB_KEYS)
            if unknown:
                raise self.error(f"unknown job keyword {unknown[0]!r}", raw, unknown[0], job_id)
            if "uses" in raw:
                message = f"reusable workflow {to_string(raw['uses'])!r} is not run locally"
                if self.options.strict:
                    raise self.error(message + " (--strict)", raw, "uses", job_id)
                self.excluded.append(ExcludedJob(job_id, message, location(raw, "uses")))
                cells[job_id] = []
                continue
            if "steps" not in raw:
                raise self.error(
                    "a job needs steps: (or uses: a reusable workflow)", raw, None, job_id
                )
            cells[job_id] = self.job_cells(job_id, raw)
        return cells

    def job_cells(self, job_id: str, raw: LineMap) -> list[_Cell]:
        strategy = raw.get("strategy") or {}
        if not isinstance(strategy, Mapping):
            raise self.error("strategy must be a mapping", raw, "strategy", job_id)
        matrix_raw = strategy.get("matrix") if isinstance(strategy, Mapping) else None
        where = Where(self.shown, line_of(strategy, "matrix"), job_id)
        base = JobContext(
            job_id,
            self.github,
            dict(self.workflow_env),
            {},
            {},
            self.host.context(),
            dict(self.options.variables),
            self.secrets,
            self.inputs,
        )
        matrix = self.render_value(matrix_raw, base, where) if matrix_raw is not None else None
        try:
            combos = expand_matrix(matrix) if isinstance(matrix, Mapping) else [{}]
        except MatrixError as exc:
            raise where.error(str(exc)) from None
        if matrix is not None and not isinstance(matrix, Mapping):
            raise where.error("strategy.matrix must be a mapping")
        fail_fast = (
            truthy(strategy.get("fail-fast", True)) if isinstance(strategy, Mapping) else True
        )
        out = []
        for index, combo in enumerate(combos):
            name = f"{job_id} ({cell_label(combo)})" if combo else job_id
            strategy_ctx = {
                "fail-fast": fail_fast,
                "job-index": index,
                "job-total": len(combos),
                "max-parallel": len(combos),
            }
            ctx = JobContext(
                job_id,
                self.github,
                dict(self.workflow_env),
                combo,
                strategy_ctx,
                self.host.context(),
                dict(self.options.variables),
                self.secrets,
                self.inputs,
            )
            runs_on = self.render_value(
                raw.get("runs-on"), ctx, Where(self.shown, line_of(raw, "runs-on"), job_id)
            )
            if runs_on is None or runs_on in ("", []):
                raise self.error("runs-on is required", raw, None, job_id)
            if why := runs_on_mismatch(runs_on, self.host):
                self.excluded.append(ExcludedJob(name, why, location(raw, "runs-on")))
                continue
            env = dict(self.workflow_env)
            runtime: dict[str, Template] = {}
            env.update(self.render_env(raw, ctx, job_id, runtime))
            ctx = JobContext(
                job_id,
                ctx.github,
                env,
                combo,
                strategy_ctx,
                ctx.runner,
                ctx.variables,
                ctx.secrets,
                ctx.inputs,
            )
            out.append(_Cell(job_id, name, raw, ctx, index, len(combos), runtime))
        return out

    def render_value(self, value: Any, ctx: JobContext, where: Where) -> Any:
        """A value with ``${{ }}`` in any string inside it, rendered before the job."""
        scope = ctx.static_scope(self.root)
        if isinstance(value, str):
            return compile_template(value, where).render(scope)
        if isinstance(value, list):
            return [self.render_value(v, ctx, where) for v in value]
        if isinstance(value, Mapping):
            return {str(k): self.render_value(v, ctx, where) for k, v in value.items()}
        return value

    def resolve_needs(self, jobs: LineMap, cells: dict[str, list[_Cell]]) -> list[Job]:
        needs_of: dict[str, list[str]] = {}
        for job_id, raw in jobs.items():
            needs = raw.get("needs", [])
            needs = [to_string(n) for n in needs] if isinstance(needs, list) else [to_string(needs)]
            for need in needs:
                if need not in jobs:
                    raise self.error(f"needs unknown job {need!r}", raw, "needs", job_id)
                if need == job_id:
                    raise self.error("a job cannot need itself", raw, "needs", job_id)
            needs_of[job_id] = needs
        left_out: dict[str, str] = {j: "" for j, c in cells.items() if not c}
        changed = True
        while changed:
            changed = False
            for job_id, needs in needs_of.items():
                if job_id in left_out:
                    continue
                gone = [n for n in needs if n in left_out]
                if gone:
                    left_out[job_id] = f"needs {gone[0]!r}, which does not run here"
                    for cell in cells[job_id]:
                        self.excluded.append(
                            ExcludedJob(cell.name, left_out[job_id], location(cell.raw, "needs"))
                        )
                    changed = True
        out = []
        for job_id, job_cells in cells.items():
            if job_id in left_out:
                continue
            for cell in job_cells:
                need_cells = {n: tuple(c.name for c in cells[n]) for n in needs_of[job_id]}
                ctx = JobContext(
                    cell.ctx.job_id,
                    cell.ctx.github,
                    cell.ctx.env,
                    cell.ctx.matrix,
                    cell.ctx.strategy,
                    cell.ctx.runner,
                    cell.ctx.variables,
                    cell.ctx.secrets,
                    cell.ctx.inputs,
                    need_cells,
                )
                job = self.job(cell, ctx)
                if job is not None:
                    out.append(job)
        return out

    def job(self, cell: _Cell, ctx: JobContext) -> Job | None:
        raw, job_id = cell.raw, cell.job_id
        where = Where(self.shown, line_of(raw, "if"), job_id)
        when, condition = When.ON_SUCCESS, None
        if "if" in raw:
            cond = compile_condition(raw["if"], where, {"github", "needs", "vars", "inputs"})
            text = to_string(raw["if"])
            static = not cond.explicit_status and "needs" not in cond.contexts
            holds: bool | None = None
            if static:
                try:
                    holds = cond.holds(ctx.static_scope(self.root))
                except ExpressionError:  # fails the job when it starts, as on GitHub
                    holds = None
            if holds is False:
                self.excluded.append(
                    ExcludedJob(cell.name, f"if: {text} is false", location(raw, "if"))
                )
                return None
            if holds:
                condition = Condition(expression=text, reason=f"if: {text} is true")
            else:
                when = When.ALWAYS if cond.explicit_status else When.ON_SUCCESS

                def check(view: RuntimeView, cond: Any = cond) -> bool:
                    return bool(cond.holds(ctx.scope(view, job_level=True)))

                condition = Condition(
                    expression=text, reason="decided when the job starts", check=check
                )
        defaults = self.defaults_run(raw, job_id)
        builder = StepBuilder(
            ctx,
            self.shown,
            job_id,
            self.root,
            self.options.strict,
            defaults.get("shell"),
            defaults.get("working-directory"),
            self.warnings,
        )
        builder.job_env = dict(cell.runtime_env)
        steps = builder.build_all(raw["steps"])
        timeout = self.number(raw, "timeout-minutes", ctx, DEFAULT_TIMEOUT_MINUTES)
        allow = truthy(self.render_value(raw.get("continue-on-error", False), ctx, where))
        variables = {k: Variable(v, raw=True) for k, v in self.base_env.items()}
        variables["GITHUB_JOB"] = Variable(job_id, raw=True)
        variables.update(
            {
                k: Variable(Secret(v) if self.mentions_secret(raw, k) else v, raw=True)
                for k, v in ctx.env.items()
            }
        )
        return Job(
            name=cell.name,
            stage="jobs",
            steps=tuple(steps),
            after_steps=tuple(builder.after_steps),
            needs=tuple(Need(c) for cs in ctx.need_cells.values() for c in cs),
            when=when,
            condition=condition,
            variables=variables,
            matrix={k: to_string(v) for k, v in ctx.matrix.items()},
            matrix_of=job_id if ctx.matrix else None,
            node_index=cell.index + 1 if ctx.matrix else None,
            node_total=cell.total if ctx.matrix else None,
            fail_fast=bool(ctx.strategy.get("fail-fast", True)) if ctx.matrix else False,
            timeout=timeout * 60,
            allow_failure=AllowFailure(allowed=allow),
            image=self.container(raw, ctx),
            services=self.services(raw, ctx),
            step_files=dict(STEP_FILES),
            outputs=self.outputs_source(raw),
            resolve_outputs=self.outputs_hook(raw, ctx, job_id),
            environment=self.environment(raw, ctx),
            source=location(self.jobs_map, job_id),
        )

    def mentions_secret(self, raw: LineMap, key: str) -> bool:
        env = raw.get("env") or {}
        value = env.get(key) if isinstance(env, Mapping) else None
        return isinstance(value, str) and "secrets." in value.lower()

    def defaults_run(self, raw: LineMap, job_id: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for source in (self.defaults, raw.get("defaults")):
            run = source.get("run") if isinstance(source, Mapping) else None
            if isinstance(run, Mapping):
                out.update({str(k): to_string(v) for k, v in run.items()})
        return out

    def number(self, raw: LineMap, key: str, ctx: JobContext, default: float) -> float:
        if key not in raw:
            return default
        value = to_number(
            self.render_value(raw[key], ctx, Where(self.shown, line_of(raw, key), ctx.job_id))
        )
        if not value > 0:
            raise self.error(
                f"{key} must be a positive number, not {to_string(raw[key])!r}",
                raw,
                key,
                ctx.job_id,
            )
        return value

    def container(self, raw: LineMap, ctx: JobContext) -> Image | None:
        value = self.render_value(raw.get("container"), ctx, Where(self.shown, None, ctx.job_id))
        if isinstance(value, Mapping):
            value = value.get("image")
        return Image(to_string(value)) if value else None

    def services(self, raw: LineMap, ctx: JobContext) -> tuple[Service, ...]:
        value = self.render_value(
            raw.get("services") or {}, ctx, Where(self.shown, line_of(raw, "services"), ctx.job_id)
        )
        out = []
        if not isinstance(value, Mapping):
            raise self.error("services must be a mapping", raw, "services", ctx.job_id)
        for alias, spec in value.items():
            image = spec.get("image") if isinstance(spec, Mapping) else spec
            env = spec.get("env") if isinstance(spec, Mapping) else None
            if env is not None and not isinstance(env, Mapping):
                raise self.error(
                    f"services.{alias}.env must be a mapping", raw, "services", ctx.job_id
                )
            if not image:  # GitHub skips a service whose image is empty
                continue
            options = spec.get("options") if isinstance(spec, Mapping) else None
            out.append(
                Service(
                    to_string(image),
                    alias=alias,
                    variables={str(k): to_string(v) for k, v in (env or {}).items()},
                    options=tuple(shlex.split(to_string(options))) if options else (),
                )
            )
        return tuple(out)

    def environment(self, raw: LineMap, ctx: JobContext) -> str | None:
        value = raw.get("environment")
        if isinstance(value, Mapping):
            value = value.get("name")
        return (
            to_string(self.render_value(value, ctx, Where(self.shown, None, ctx.job_id)))
            if value
            else None
        )

    def outputs_source(self, raw: LineMap) -> dict[str, str]:
        outputs = raw.get("outputs") or {}
        if not isinstance(outputs, Mapping):
            raise self.error("outputs must be a mapping", raw, "outputs")
        return {str(k): to_string(v) for k, v in outputs.items()}

    def outputs_hook(self, raw: LineMap, ctx: JobContext, job_id: str) -> Any:
        outputs = raw.get("outputs") or {}
        if not isinstance(outputs, Mapping) or not outputs:
            return None
        templates = {
            str(k): compile_template(to_string(v), Where(self.shown, line_of(outputs, k), job_id))
            for k, v in outputs.items()
        }

        def resolve(view: RuntimeView) -> dict[str, str]:
            scope = ctx.scope(view)
            return {k: to_string(t.render(scope)) for k, t in templates.items()}

        return resolve


def load_workflow(path: Path, options: LoadOptions) -> Pipeline:
    """Load one workflow file (see the module docstring)."""
    return _Loader(path, options).load(path)
