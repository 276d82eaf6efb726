"""A declarative Jenkinsfile as a :class:`~opsforge.pipelines.model.Pipeline`.

Each stage with ``steps`` is a job; sequential stages wait for the jobs of the stage
before (a stage ``when`` leaves out does not break the chain), ``parallel`` branches
and ``matrix`` cells (``Build (linux, chrome)``, the axes as environment variables)
start together. ``when`` (branch, environment, expression, tag, buildingTag, not,
allOf, anyOf) is decided at load time; a stage with ``input`` is manual. Stage
``post`` blocks are after-steps (``always``/``success``/``failure``), the pipeline's
``post`` blocks are jobs after every stage. ``options { timeout; retry }`` apply per
job. Scripted pipelines (``node { }``) are reported as unsupported with their line.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.formats import LoadOptions
from opsforge.pipelines.github.context import GitState, git_state
from opsforge.pipelines.jenkins.conditions import ConditionError, when_holds
from opsforge.pipelines.jenkins.lexer import JenkinsSyntaxError
from opsforge.pipelines.jenkins.steps import StageSteps, duration
from opsforge.pipelines.jenkins.syntax import Assign, Call, MethodCall, parse
from opsforge.pipelines.jenkins.values import Env, GroovyError
from opsforge.pipelines.model import (
    Artifacts,
    Condition,
    ExcludedJob,
    Image,
    Job,
    Need,
    Pipeline,
    Retry,
    RuntimeView,
    SourceLocation,
    Step,
    Variable,
    When,
)
from opsforge.types import Secret

__all__ = ["load_jenkinsfile"]

PIPELINE_SECTIONS = (
    "agent",
    "environment",
    "options",
    "parameters",
    "stages",
    "post",
    "tools",
    "triggers",
    "libraries",
)
STAGE_SECTIONS = (
    "agent",
    "environment",
    "options",
    "when",
    "steps",
    "parallel",
    "stages",
    "matrix",
    "post",
    "tools",
    "input",
    "failFast",
)
POST_CONDITIONS = {"always": When.ALWAYS, "success": When.ON_SUCCESS, "failure": When.ON_FAILURE}


def _sections(call: Call, allowed: tuple[str, ...], path: str, job: str | None) -> dict[str, Call]:
    out: dict[str, Call] = {}
    for stmt in call.block or ():
        if not isinstance(stmt, Call):
            line = stmt.line
            raise PipelineError(
                f"unexpected statement in {call.name} {{ }}", path=path, line=line, job=job
            )
        if stmt.name not in allowed and stmt.name != "stage":
            raise PipelineError(
                f"unknown section {stmt.name!r} in {call.name} {{ }} (known: {', '.join(allowed)})",
                path=path,
                line=stmt.line,
                job=job,
            )
        out.setdefault(stmt.name, stmt)
    return out


class _Loader:
    def __init__(self, path: Path, options: LoadOptions) -> None:
        self.options = options
        self.root = options.root
        resolved, root = path.resolve(), options.root.resolve()
        self.shown = str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(path)
        self.jobs: list[Job] = []
        self.excluded: list[ExcludedJob] = []
        self.warnings: list[tuple[str, SourceLocation | None]] = []

    def error(self, message: str, line: int | None, job: str | None = None) -> PipelineError:
        return PipelineError(message, path=self.shown, line=line, job=job)

    def load(self, text: str) -> Pipeline:
        try:
            statements = parse(text)
        except JenkinsSyntaxError as exc:
            if not re.search(r"^\s*pipeline\s*\{", text, re.MULTILINE):
                raise self.error(
                    f"only a declarative pipeline {{ }} block is supported (this looks like "
                    f"scripted Groovy: {exc})",
                    exc.line,
                ) from None
            raise self.error(f"Jenkinsfile syntax error: {exc}", exc.line) from None
        pipeline = None
        for stmt in statements:
            if isinstance(stmt, Call) and stmt.name == "node":
                raise self.error(
                    "scripted pipelines (node { }) are not supported; only the "
                    "declarative pipeline { } subset is",
                    stmt.line,
                )
            if isinstance(stmt, Call) and stmt.name == "pipeline" and stmt.block is not None:
                pipeline = stmt
            elif not (isinstance(stmt, Call) and stmt.name in ("library", "import")):
                raise self.error(
                    "only a declarative pipeline { } block is supported at the "
                    "top level (scripted Groovy is not)",
                    stmt.line,
                )
        if pipeline is None:
            raise self.error("no pipeline { } block: only declarative pipelines are supported", 1)
        self.git = git_state(self.root, self.options.ref)
        sections = _sections(pipeline, PIPELINE_SECTIONS, self.shown, None)
        if "stages" not in sections:
            raise self.error("pipeline { } needs stages { }", pipeline.line)
        params = self.parameters(sections.get("parameters"))
        env = Env(self.base_env(), params)
        env = self.environment(sections.get("environment"), env, None)
        self.image = self.agent(sections.get("agent"), None)
        self.timeout, self.retries = self.job_options(sections.get("options"), env, None)
        last = self.stages(sections["stages"], (), env, self.image, {})
        self.post_jobs(sections.get("post"), env, last)
        return Pipeline(
            name=self.shown,
            format="jenkins",
            source=SourceLocation(self.shown, 1),
            root=self.root,
            jobs=tuple(self.jobs),
            stages=("stages", "post"),
            excluded=tuple(self.excluded),
            warnings=tuple(self.warnings),
        )

    # -- pipeline-level directives ----------------------------------------------------
    def base_env(self) -> dict[str, str]:
        git: GitState = self.git
        env = {
            "BUILD_NUMBER": "1",
            "BUILD_ID": "1",
            "JOB_NAME": self.root.resolve().name,
            "GIT_COMMIT": git.sha,
            "BUILD_TAG": f"jenkins-{self.root.resolve().name}-1",
        }
        if git.ref_type == "tag":
            env["TAG_NAME"] = git.ref_name
            env["BRANCH_NAME"] = git.ref_name
        else:
            env["BRANCH_NAME"] = env["GIT_BRANCH"] = git.ref_name
        return env

    def parameters(self, call: Call | None) -> dict[str, Any]:
        """``params``: the declared defaults, then ``LoadOptions.inputs`` (``--input``),
        typed as declared (a booleanParam is true/false, a choice one of its choices)."""
        params: dict[str, Any] = {}
        declared: dict[str, tuple[Call, Any]] = {}
        for stmt in call.block or () if call else ():
            if not isinstance(stmt, Call):
                raise self.error(
                    "parameters { } holds string(...), booleanParam(...), ...", stmt.line
                )
            named = dict(stmt.named)
            empty = Env({}, {})
            name = str(empty.evaluate(named["name"])) if "name" in named else None
            if not name:
                raise self.error(f"{stmt.name}: needs name:", stmt.line)
            if "defaultValue" in named:
                params[name] = empty.evaluate(named["defaultValue"])
            elif "choices" in named:
                choices = empty.evaluate(named["choices"])
                params[name] = choices[0] if isinstance(choices, list) and choices else ""
            else:
                params[name] = False if stmt.name == "booleanParam" else ""
            declared[name] = (
                stmt,
                empty.evaluate(named["choices"]) if "choices" in named else None,
            )
        for key, value in self.options.inputs.items():
            if key not in declared:
                names = ", ".join(declared) or "none"
                raise self.error(
                    f"parameter {key!r} is not declared in parameters {{ }} (declared: {names})",
                    call.line if call else None,
                )
            stmt, choices = declared[key]
            if stmt.name == "booleanParam":
                if value.lower() not in ("true", "false"):
                    raise self.error(
                        f"booleanParam {key!r}: {value!r} is not true or false", stmt.line
                    )
                params[key] = value.lower() == "true"
            elif isinstance(choices, list) and value not in [str(c) for c in choices]:
                shown = ", ".join(str(c) for c in choices)
                raise self.error(f"choice {key!r}: {value!r} is not one of {shown}", stmt.line)
            else:
                params[key] = value
        return params

    def environment(self, call: Call | None, env: Env, job: str | None) -> Env:
        values = dict(env.env)
        self.secret_names: set[str] = getattr(self, "secret_names", set())
        for stmt in call.block or () if call else ():
            if not isinstance(stmt, Assign):
                raise self.error("environment { } holds NAME = value lines", stmt.line, job)
            if (
                isinstance(stmt.value, MethodCall)
                and stmt.value.obj is None
                and (stmt.value.name == "credentials")
            ):
                ident = str(Env({}, {}).evaluate(stmt.value.args[0])) if stmt.value.args else ""
                secret = self.options.secrets.get(ident)
                if secret is None:
                    raise self.error(
                        f"credentials({ident!r}) is not available locally; give it "
                        f"with --secret {ident}=VALUE",
                        stmt.line,
                        job,
                    )
                values[stmt.name] = secret.reveal()
                self.secret_names.add(stmt.name)
                continue
            try:
                value = Env(values, env.params).evaluate(stmt.value)
            except GroovyError as exc:
                raise self.error(str(exc), exc.line, job) from None
            values[stmt.name] = (
                "null"
                if value is None
                else (
                    str(value).lower()
                    if isinstance(value, bool)
                    else str(int(value))
                    if isinstance(value, float) and value.is_integer()
                    else str(value)
                )
            )
        return Env(values, env.params)

    def agent(self, call: Call | None, job: str | None) -> Image | None:
        if call is None:
            return getattr(self, "image", None)
        if call.block is None:
            return None  # any / none / label '...': this machine
        for stmt in call.block:
            if isinstance(stmt, Call) and stmt.name == "docker":
                image = dict(stmt.named).get("image") or (stmt.args[0] if stmt.args else None)
                if image is None and stmt.block:
                    image = next(
                        (
                            dict(s.named).get("image") or s.args[0]
                            for s in stmt.block
                            if isinstance(s, Call) and s.name == "image" and s.args
                        ),
                        None,
                    )
                if image is None:
                    raise self.error("agent docker needs an image", stmt.line, job)
                return Image(str(Env({}, {}).evaluate(image)))
            if isinstance(stmt, Call) and stmt.name == "dockerfile":
                self.warnings.append(
                    (
                        "agent dockerfile is not built locally; the shell executor runs the stage",
                        SourceLocation(self.shown, stmt.line),
                    )
                )
        return None

    def job_options(self, call: Call | None, env: Env, job: str | None) -> tuple[float | None, int]:
        timeout, retries = getattr(self, "timeout", None), getattr(self, "retries", 0)
        for stmt in call.block or () if call else ():
            if not isinstance(stmt, Call):
                raise self.error("options { } holds timeout(...), retry(...)", stmt.line, job)
            if stmt.name == "timeout":
                timeout = duration(stmt, env, self.shown, job)
            elif stmt.name == "retry":
                count = env.evaluate(stmt.args[0]) if stmt.args else None
                if not isinstance(count, float) or count < 1:
                    raise self.error("retry needs a count of at least 1", stmt.line, job)
                retries = int(count) - 1
            else:
                self.warnings.append(
                    (
                        f"option {stmt.name} has no local meaning; ignored",
                        SourceLocation(self.shown, stmt.line),
                    )
                )
        return timeout, retries

    # -- stages ---------------------------------------------------------------------
    def stages(
        self,
        call: Call,
        before: tuple[str, ...],
        env: Env,
        image: Image | None,
        matrix: Mapping[str, str],
    ) -> tuple[str, ...]:
        frontier = before
        for stmt in call.block or ():
            if not (isinstance(stmt, Call) and stmt.name == "stage"):
                raise self.error("stages { } holds stage('name') { } blocks", stmt.line)
            frontier = self.stage(stmt, frontier, env, image, matrix)
        return frontier

    def stage(
        self,
        call: Call,
        before: tuple[str, ...],
        env: Env,
        image: Image | None,
        matrix: Mapping[str, str],
    ) -> tuple[str, ...]:
        if not call.args or call.block is None:
            raise self.error("a stage needs a name and a { } block: stage('Build') { }", call.line)
        base = str(Env({}, {}).evaluate(call.args[0]))
        name = f"{base} ({', '.join(matrix.values())})" if matrix else base
        sections = _sections(call, STAGE_SECTIONS, self.shown, name)
        env = self.environment(
            sections.get("environment"),
            Env({**env.env, **matrix, "STAGE_NAME": base}, env.params),
            name,
        )
        if "when" in sections:
            holds, reason = self.when(sections["when"], env, name)
            if not holds:
                self.excluded.append(
                    ExcludedJob(
                        name, reason, SourceLocation(self.shown, sections["when"].line), "stages"
                    )
                )
                return before
        kinds = [k for k in ("steps", "parallel", "stages", "matrix") if k in sections]
        if len(kinds) != 1:
            raise self.error(
                "a stage needs exactly one of steps, parallel, stages, matrix", call.line, name
            )
        image = self.agent(sections.get("agent"), name) if "agent" in sections else image
        if kinds[0] == "parallel":
            out: list[str] = []
            for branch in sections["parallel"].block or ():
                if not (isinstance(branch, Call) and branch.name == "stage"):
                    raise self.error("parallel { } holds stage('name') { } blocks", branch.line)
                out.extend(self.stage(branch, before, env, image, matrix))
            return tuple(out)
        if kinds[0] == "stages":
            return self.stages(sections["stages"], before, env, image, matrix)
        if kinds[0] == "matrix":
            return self.matrix(sections["matrix"], before, env, image, name)
        self.job_for(name, sections, before, env, image, call.line)
        if matrix:
            self.jobs[-1] = replace(self.jobs[-1], matrix=dict(matrix), matrix_of=base)
        return (name,)

    def matrix(
        self, call: Call, before: tuple[str, ...], env: Env, image: Image | None, name: str
    ) -> tuple[str, ...]:
        sections = _sections(
            call,
            ("axes", "excludes", "stages", "agent", "environment", "when", "options", "post"),
            self.shown,
            name,
        )
        axes = (
            [self.axis(a, name) for a in (sections["axes"].block or ())]
            if ("axes" in sections)
            else []
        )
        if not axes or "stages" not in sections:
            raise self.error("matrix needs axes { axis { } } and stages { }", call.line, name)
        excludes = (
            [
                [self.axis(a, name, allow_not=True) for a in (e.block or ())]
                for e in (sections["excludes"].block or ())
                if isinstance(e, Call)
            ]
            if "excludes" in sections
            else []
        )
        out: list[str] = []
        for combo in itertools.product(*(values for _, values, _ in axes)):
            cell = {axis[0]: value for axis, value in zip(axes, combo, strict=True)}
            if any(all((cell[n] in vs) != negated for n, vs, negated in rule) for rule in excludes):
                continue
            cell_env = self.environment(
                sections.get("environment"), Env({**env.env, **cell}, env.params), name
            )
            out.extend(self.stages(sections["stages"], before, cell_env, image, cell))
        return tuple(out)

    def axis(self, call: Any, job: str, allow_not: bool = False) -> tuple[str, list[str], bool]:
        if not (isinstance(call, Call) and call.name == "axis" and call.block):
            raise self.error("expected axis { name '...'; values '...' }", call.line, job)
        found: dict[str, Call] = {s.name: s for s in call.block if isinstance(s, Call)}
        values = found.get("values") or (found.get("notValues") if allow_not else None)
        if "name" not in found or values is None or not values.args:
            raise self.error("axis needs name '...' and values '...'", call.line, job)
        plain = Env({}, {})
        return (
            str(plain.evaluate(found["name"].args[0])),
            [str(plain.evaluate(v)) for v in values.args],
            values.name == "notValues",
        )

    def when(self, call: Call, env: Env, job: str) -> tuple[bool, str]:
        try:
            return when_holds(call, env)
        except ConditionError as exc:
            raise self.error(str(exc), exc.line, job) from None

    # -- jobs -----------------------------------------------------------------------
    def variables(self, env: Env) -> dict[str, Variable]:
        names: set[str] = getattr(self, "secret_names", set())
        return {k: Variable(Secret(v) if k in names else v, raw=True) for k, v in env.env.items()}

    def job_for(
        self,
        name: str,
        sections: Mapping[str, Call],
        before: tuple[str, ...],
        env: Env,
        image: Image | None,
        line: int,
    ) -> None:
        if any(j.name == name for j in self.jobs):
            raise self.error(f"stage name {name!r} is used twice", line, name)
        collected = StageSteps(name, self.shown, env)
        if sections["steps"].block is None:
            raise self.error("steps needs a { } block of steps", sections["steps"].line, name)
        collected.add(sections["steps"].block)
        timeout, retries = self.job_options(sections.get("options"), env, name)
        after = self.stage_post(sections.get("post"), env, name)
        artifacts = None
        if collected.artifacts or collected.junit:
            artifacts = Artifacts(
                paths=tuple(collected.artifacts),
                reports={"junit": tuple(collected.junit)} if collected.junit else {},
            )
        self.jobs.append(
            Job(
                name=name,
                stage="stages",
                steps=tuple(collected.steps),
                after_steps=tuple(after),
                needs=tuple(Need(n) for n in before),
                when=When.MANUAL if "input" in sections else When.ON_SUCCESS,
                variables=self.variables(env),
                timeout=timeout,
                image=image,
                artifacts=artifacts,
                retry=Retry(max=max(retries, collected.retries)),
                source=SourceLocation(self.shown, line),
            )
        )

    def stage_post(self, call: Call | None, env: Env, job: str) -> list[Step]:
        steps: list[Step] = []
        for stmt in call.block or () if call else ():
            if not isinstance(stmt, Call) or stmt.name not in (*POST_CONDITIONS, "cleanup"):
                raise self.error(
                    f"post condition {getattr(stmt, 'name', '?')!r} is not "
                    "supported (always, success, failure, cleanup)",
                    stmt.line,
                    job,
                )
            collected = StageSteps(job, self.shown, env)
            collected.add(stmt.block or ())
            wanted = {"success": "success", "failure": "failure"}.get(stmt.name)
            if wanted is None:
                steps.extend(collected.steps)
                continue
            condition = Condition(f"post {stmt.name}", "", _status_is(wanted))
            steps.extend(replace(s, condition=condition) for s in collected.steps)
        return steps

    def post_jobs(self, call: Call | None, env: Env, last: tuple[str, ...]) -> None:
        every = tuple(j.name for j in self.jobs)
        for stmt in call.block or () if call else ():
            if not isinstance(stmt, Call) or stmt.name not in (*POST_CONDITIONS, "cleanup"):
                raise self.error(
                    f"post condition {getattr(stmt, 'name', '?')!r} is not "
                    "supported (always, success, failure, cleanup)",
                    stmt.line,
                )
            name = f"post: {stmt.name}"
            collected = StageSteps(name, self.shown, env)
            collected.add(stmt.block or ())
            self.jobs.append(
                Job(
                    name=name,
                    stage="post",
                    steps=tuple(collected.steps),
                    needs=tuple(Need(n) for n in every),
                    when=POST_CONDITIONS.get(stmt.name, When.ALWAYS),
                    variables=self.variables(env),
                    image=self.image,
                    source=SourceLocation(self.shown, stmt.line),
                )
            )


def _status_is(wanted: str) -> Callable[[RuntimeView], bool]:
    return lambda view: view.job_status == wanted


def load_jenkinsfile(path: Path, options: LoadOptions) -> Pipeline:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(f"cannot read: {exc}", path=str(path)) from None
    return _Loader(path, options).load(text)
