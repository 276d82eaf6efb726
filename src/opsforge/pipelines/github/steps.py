"""A workflow's steps as model steps: ``run`` steps, with ``${{ }}`` rendered just before
each step starts (``Step.prepare``), ``if:`` as a runtime condition, and ``uses:`` steps
handed to :mod:`.actions`.

An expression that fails while a step starts (``fromJSON`` of bad JSON in its ``if:``,
``run:``, ``env:``, ...) fails that step, as on GitHub: the step becomes a step of kind
``github_expression_error`` that writes the error (file:line, the expression) to the
job's log and exits 1; ``continue-on-error`` applies to it like to any failure."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from opsforge.pipelines.errors import ExpressionError, PipelineError
from opsforge.pipelines.github.expr_eval import Scope
from opsforge.pipelines.github.expr_values import to_number, to_string, truthy
from opsforge.pipelines.github.expressions import (
    Template,
    Where,
    compile_condition,
    compile_template,
)
from opsforge.pipelines.github.runtime import JobContext
from opsforge.pipelines.github.yaml_source import LineMap, line_of, location
from opsforge.pipelines.masking import Masker
from opsforge.pipelines.model import Condition, RuntimeView, SourceLocation, Step
from opsforge.pipelines.steps import StepCall, register_step_type
from opsforge.types import Secret

__all__ = ["EXPRESSION_ERROR", "ScopeMaker", "StepBuilder", "shell_command"]

#: (view, extra env) -> the scope an expression of a step sees
ScopeMaker = Callable[[RuntimeView, Mapping[str, Any]], Scope]

STEP_KEYS = frozenset(
    {
        "id",
        "if",
        "name",
        "uses",
        "run",
        "shell",
        "with",
        "env",
        "continue-on-error",
        "timeout-minutes",
        "working-directory",
    }
)


def shell_command(name: str, where: Where) -> str:
    """GitHub's command line for a ``shell:`` value (``{0}`` is the script file)."""
    builtin = {
        "bash": "bash --noprofile --norc -eo pipefail {0}",
        "sh": "sh -e {0}",
        "python": ("python" if shutil.which("python") else "python3") + " {0}",
        "pwsh": "pwsh -command \". '{0}'\"",
    }
    if name in builtin:
        return builtin[name]
    if name in ("cmd", "powershell"):
        raise where.error(f"shell {name!r} only exists on Windows runners")
    if "{0}" not in name:
        raise where.error(f"a custom shell must contain {{0}} for the script path: {name!r}")
    return name


EXPRESSION_ERROR = "github_expression_error"


async def _expression_failed(call: StepCall) -> int:
    """The step whose expressions could not be evaluated: fails with that error (the log
    and the recap say it, not an exit code)."""
    raise PipelineError(str(call.param("error")))


register_step_type(EXPRESSION_ERROR, _expression_failed)


def _failed_step(step: Step, message: str, continue_on_error: bool) -> Step:
    """``step`` failing with ``message`` (naming file:line and the expression)."""
    return Step(
        kind=EXPRESSION_ERROR,
        name=message,
        id=step.id,
        params={"error": message},
        continue_on_error=continue_on_error,
    )


def _guarded(
    step: Step, coe: Callable[[RuntimeView], bool], mask: Masker, apply_coe: bool = False
) -> Step:
    """``step`` with an evaluation error of its ``if:`` or its ``prepare`` turned into a
    failing step (``coe``: its ``continue-on-error`` now, False when that fails too). The
    error may quote a value (``invalid JSON '...'``): secrets in it are masked, as the
    message also shows in the recap and the events, not only in the job's log.
    ``apply_coe``: the prepared step also gets ``coe`` (a ``uses:`` step; a ``run:`` step
    computes its own with its env)."""
    condition, prepare = step.condition, step.prepare
    if prepare is None and (condition is None or condition.check is None) and not apply_coe:
        return step

    def guarded(view: RuntimeView) -> Step | None:
        try:
            check = condition.check if condition is not None else None
            if check is not None and not check(view):
                return None  # skipped: its ${{ }} is never rendered (as in GitHub)
            done = step if prepare is None else prepare(view)
        except ExpressionError as exc:
            return _failed_step(step, mask.mask(str(exc)), coe(view))
        if done is None:
            return None
        go_on = done.continue_on_error or (apply_coe and coe(view))
        return replace(done, condition=None, prepare=None, continue_on_error=go_on)

    return replace(step, prepare=guarded)


def _in_composite(step: Step, prefix: str, coe: Callable[[RuntimeView], bool]) -> Step:
    """An inner step of a composite action (ids under ``prefix``) whose ``uses:`` step has
    ``continue-on-error``: as in GitHub, the composite stops at its first failing step
    (the rest of its steps are skipped) and, while ``coe`` holds, that failure does not
    fail the job."""
    inner = step.prepare

    def prepare(view: RuntimeView) -> Step | None:
        if any(r.outcome == "failure" for k, r in view.steps.items() if k.startswith(prefix)):
            return None  # an earlier step of the composite failed
        done = step if inner is None else inner(view)
        if done is None:
            return None
        go_on = done.continue_on_error or coe(view)
        return replace(done, condition=None, prepare=None, continue_on_error=go_on)

    return replace(step, prepare=prepare)


def _with_condition(step: Step, outer: Condition) -> Step:
    """The step under ``outer`` (a composite's ``if:`` over its inner steps' own); the
    step's guard (:func:`_guarded`) checks the combined condition before ``prepare``."""
    inner = step.condition
    condition = outer
    if inner is not None and inner.check is not None and outer.check is not None:
        first, second = outer.check, inner.check
        condition = Condition(
            expression=f"({outer.expression}) && ({inner.expression})",
            check=lambda view: first(view) and second(view),
        )
    return replace(step, condition=condition)


def _literal(value: str | Secret) -> str | Secret:
    """An env value the runner must not expand (GitHub passes ``$X`` through as text):
    ``$`` written as the runner's ``$$`` escape."""
    if isinstance(value, Secret):
        return Secret(value.reveal().replace("$", "$$")) if "$" in value.reveal() else value
    return value.replace("$", "$$")


def _true(value: Any) -> bool:
    """A ``continue-on-error`` value: true, or a string other than ``false``."""
    return truthy(value) and to_string(value).lower() != "false"


def _secret_aware(template: Template, value: Any) -> str | Secret:
    text = to_string(value)
    return Secret(text) if "secrets." in template.source.lower() else text


@dataclass
class StepBuilder:
    """Builds the steps of one job (or of a composite action inside it)."""

    ctx: JobContext
    path: str
    job_id: str
    root: Path
    strict: bool
    default_shell: str | None = None
    default_workdir: str | None = None
    warnings: list[tuple[str, SourceLocation | None]] = field(default_factory=list)
    after_steps: list[Step] = field(default_factory=list)
    counter: int = 0
    #: job ``env:`` entries that read ``needs``: rendered when each step starts
    job_env: dict[str, Template] = field(default_factory=dict)

    def where(self, raw: Any, key: str | None = None) -> Where:
        loc = location(raw, key)
        return Where(
            self.path if loc is None else loc.path, None if loc is None else loc.line, self.job_id
        )

    def default_scope(self, view: RuntimeView, extra_env: Mapping[str, Any]) -> Scope:
        if self.job_env:  # job env that reads needs is part of the env context too
            base = self.ctx.scope(view)
            rendered = {k: to_string(t.render(base)) for k, t in self.job_env.items()}
            extra_env = {**rendered, **extra_env}
        return self.ctx.scope(view, extra_env=extra_env)

    def build_all(
        self, raw_steps: Any, scope_maker: ScopeMaker | None = None, id_prefix: str = ""
    ) -> list[Step]:
        if not isinstance(raw_steps, list) or not raw_steps:
            raise PipelineError(
                "steps must be a non-empty list",
                path=self.path,
                line=line_of(raw_steps),
                job=self.job_id,
            )
        out: list[Step] = []
        for raw in raw_steps:
            out.extend(self.build(raw, scope_maker or self.default_scope, id_prefix))
        return out

    def build(self, raw: Any, scope_maker: ScopeMaker, id_prefix: str) -> list[Step]:
        where = self.where(raw)
        if not isinstance(raw, LineMap):
            raise where.error("a step must be a mapping with run: or uses:")
        unknown = sorted(set(raw) - STEP_KEYS)
        if unknown:
            raise self.where(raw, unknown[0]).error(f"unknown step keyword {unknown[0]!r}")
        if ("run" in raw) == ("uses" in raw):
            raise where.error("a step needs exactly one of run: and uses:")
        self.counter += 1
        step_id = to_string(raw["id"]) if "id" in raw else None
        full_id = f"{id_prefix}{step_id}" if step_id else f"{id_prefix}__step{self.counter}"
        condition = None
        if "if" in raw:
            cond = compile_condition(raw["if"], self.where(raw, "if"))

            def check(view: RuntimeView, cond: Any = cond) -> bool:
                return bool(cond.holds(scope_maker(view, {})))

            condition = Condition(expression=to_string(raw["if"]), check=check)
        if "uses" in raw:
            from opsforge.pipelines.github.actions import action_steps

            steps = action_steps(self, raw, full_id, scope_maker, where)
        else:
            steps = [self.run_step(raw, full_id, scope_maker)]
        if condition is not None:
            steps = [_with_condition(s, condition) for s in steps]
        coe_t = self.continue_on_error(raw)

        def coe(view: RuntimeView) -> bool:
            try:
                return coe_t is not None and _true(coe_t.render(scope_maker(view, {})))
            except ExpressionError:
                return False

        mask = Masker(self.ctx.secrets.values())
        # an action with a local equivalent is one step: its continue-on-error is the step's;
        # a composite's inner steps are a group under it (see _in_composite)
        composite = to_string(raw.get("uses", "")).startswith("./")
        apply_coe = coe_t is not None and not composite
        guarded = [_guarded(s, coe, mask, apply_coe) for s in steps]
        if composite and coe_t is not None:
            return [_in_composite(s, f"{full_id}/", coe) for s in guarded]
        return guarded

    def templates(self, raw: LineMap, key: str) -> dict[str, Template]:
        value = raw.get(key) or {}
        if not isinstance(value, Mapping):
            raise self.where(raw, key).error(f"{key} must be a mapping")
        return {
            str(k): compile_template(to_string(v), self.where(value, str(k)))
            for k, v in value.items()
        }

    def run_step(self, raw: LineMap, full_id: str, scope_maker: ScopeMaker) -> Step:
        run = compile_template(to_string(raw["run"]), self.where(raw, "run"))
        env = self.templates(raw, "env")
        shell_name = raw.get("shell", self.default_shell)
        shell = (
            shell_command(to_string(shell_name), self.where(raw, "shell")) if shell_name else None
        )
        workdir = raw.get("working-directory", self.default_workdir)
        workdir_t = compile_template(to_string(workdir), self.where(raw)) if workdir else None
        name = to_string(raw.get("name", ""))
        static = Step(
            run=run.source,
            name=name or to_string(raw["run"]).strip().split("\n")[0],
            id=full_id,
            shell=shell,
            env={k: t.source for k, t in env.items()},
            working_directory=to_string(workdir) if workdir else None,
            source=location(raw),
            echo=True,
        )
        limits = self.limits(raw)
        name_t = compile_template(name, self.where(raw, "name")) if "${{" in name else None

        def prepare(view: RuntimeView) -> Step:
            env_values = self.render_env(env, scope_maker(view, {}))
            scope = scope_maker(
                view,
                {
                    k: to_string(v) if not isinstance(v, Secret) else v.reveal()
                    for k, v in env_values.items()
                },
            )
            timeout, continue_on_error = limits(scope)
            return replace(
                static,
                name=to_string(name_t.render(scope)) if name_t else static.name,
                run=to_string(run.render(scope)),
                env=self.runtime_env(view, env_values),
                working_directory=to_string(workdir_t.render(scope)) if workdir_t else None,
                timeout=timeout,
                continue_on_error=continue_on_error,
                prepare=None,
            )

        return replace(static, prepare=prepare)

    def render_env(self, env: Mapping[str, Template], scope: Scope) -> dict[str, str | Secret]:
        return {k: _secret_aware(t, t.render(scope)) for k, t in env.items()}

    def runtime_env(
        self, view: RuntimeView, env: Mapping[str, str | Secret]
    ) -> dict[str, str | Secret]:
        out: dict[str, str | Secret] = {
            "GITHUB_WORKSPACE": str(view.workdir),
            "GITHUB_JOB": self.job_id,
        }
        if self.job_env:
            scope = self.ctx.scope(view)
            out.update({k: _secret_aware(t, t.render(scope)) for k, t in self.job_env.items()})
        out.update(env)
        return {k: _literal(v) for k, v in out.items()}

    def limits(self, raw: LineMap) -> Callable[[Scope], tuple[float | None, bool]]:
        """``timeout-minutes`` and ``continue-on-error`` of a step, rendered per run."""
        timeout_t = (
            compile_template(to_string(raw["timeout-minutes"]), self.where(raw, "timeout-minutes"))
            if "timeout-minutes" in raw
            else None
        )
        coe_t = self.continue_on_error(raw)
        where = self.where(raw, "timeout-minutes")

        def compute(scope: Scope) -> tuple[float | None, bool]:
            timeout = None
            if timeout_t is not None:
                minutes = to_number(timeout_t.render(scope))
                if not minutes > 0:
                    raise where.error(
                        f"timeout-minutes must be a positive number, not {timeout_t.source!r}"
                    )
                timeout = minutes * 60
            return timeout, coe_t is not None and _true(coe_t.render(scope))

        return compute

    def continue_on_error(self, raw: LineMap) -> Template | None:
        if "continue-on-error" not in raw:
            return None
        value = to_string(raw["continue-on-error"])
        return compile_template(value, self.where(raw, "continue-on-error"))
