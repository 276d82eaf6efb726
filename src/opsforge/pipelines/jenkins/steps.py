"""The steps of a declarative stage: ``sh``, ``echo``, ``junit``, ``archiveArtifacts``,
``checkout scm``, ``sleep``, ``error``, and the wrappers ``timeout``, ``retry``, ``dir``,
``withEnv``. GStrings are resolved here against the stage's environment."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.jenkins.syntax import Assign, Call, Expr, Script, Stmt
from opsforge.pipelines.jenkins.values import Env, GroovyError
from opsforge.pipelines.model import SourceLocation, Step

__all__ = ["SUPPORTED_STEPS", "StageSteps", "duration"]

SUPPORTED_STEPS = (
    "sh",
    "stash",
    "unstash",
    "echo",
    "junit",
    "archiveArtifacts",
    "checkout",
    "sleep",
    "error",
    "timeout",
    "retry",
    "dir",
    "withEnv",
)
_UNITS = {"SECONDS": 1, "MINUTES": 60, "HOURS": 3600, "DAYS": 86400, "MILLISECONDS": 0.001}


def duration(call: Call, env: Env, path: str, job: str | None) -> float:
    """``timeout(time: 5, unit: 'MINUTES')`` / ``timeout(5)`` in seconds."""
    named = dict(call.named)
    value = named.get("time", call.args[0] if call.args else None)
    unit = named.get("unit")
    try:
        amount = float(env.evaluate(value)) if value is not None else None
        unit_name = str(env.evaluate(unit)) if unit is not None else "MINUTES"
    except (GroovyError, TypeError, ValueError):
        amount, unit_name = None, ""
    if amount is None or amount <= 0 or unit_name not in _UNITS:
        raise PipelineError(
            f"{call.name}: needs time: N (> 0) and unit: one of {', '.join(_UNITS)}",
            path=path,
            line=call.line,
            job=job,
        )
    return amount * _UNITS[unit_name]


@dataclass
class StageSteps:
    """Steps, artifacts and reports of one stage."""

    stage: str
    path: str
    env: Env
    steps: list[Step] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    junit: list[str] = field(default_factory=list)
    retries: int = 0

    def error(self, message: str, line: int) -> PipelineError:
        return PipelineError(message, path=self.path, line=line, job=self.stage)

    def value(self, expr: Expr) -> Any:
        try:
            return self.env.evaluate(expr)
        except GroovyError as exc:
            raise self.error(str(exc), exc.line) from None

    def argument(self, call: Call, name: str, *, required: bool = True) -> Any:
        named = dict(call.named)
        if name in named:
            return self.value(named[name])
        if call.args:
            return self.value(call.args[0])
        if required:
            raise self.error(f"{call.name}: needs {name}:", call.line)
        return None

    def add(
        self,
        body: tuple[Stmt, ...],
        *,
        timeout: float | None = None,
        workdir: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        for stmt in body:
            if isinstance(stmt, Script):
                raise self.error(
                    "script { } blocks run Groovy, which opsforge does not run; "
                    "use sh steps (or run this pipeline in Jenkins)",
                    stmt.line,
                )
            if isinstance(stmt, Assign):
                raise self.error(f"assignment to {stmt.name} is not a step", stmt.line)
            self.call(stmt, timeout, workdir, dict(extra or {}))

    def _step(
        self,
        call: Call,
        run: str,
        name: str,
        timeout: float | None,
        workdir: str | None,
        extra: Mapping[str, str],
        **kwargs: Any,
    ) -> None:
        self.steps.append(
            Step(
                run=run,
                name=name,
                timeout=timeout,
                working_directory=workdir,
                env=dict(extra),
                source=SourceLocation(self.path, call.line),
                echo=True,
                **kwargs,
            )
        )

    def call(
        self, call: Call, timeout: float | None, workdir: str | None, extra: dict[str, str]
    ) -> None:
        name = call.name
        inner = Env({**self.env.env, **extra}, self.env.params)
        saved, self.env = self.env, inner
        try:
            if name == "sh":
                script = str(self.argument(call, "script"))
                label = dict(call.named).get("label")
                self._step(
                    call,
                    script,
                    str(self.value(label))
                    if label
                    else script.strip().splitlines()[0][:60]
                    if script.strip()
                    else "sh",
                    timeout,
                    workdir,
                    extra,
                )
            elif name == "echo":
                message = self.argument(call, "message")
                text = "null" if message is None else str(message)
                self._step(
                    call,
                    f"printf '%s\\n' {shlex.quote(text)}",
                    f"echo {text[:50]}",
                    timeout,
                    workdir,
                    extra,
                )
            elif name == "sleep":
                seconds = self.argument(call, "time")
                if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                    raise self.error(f"sleep needs a number of seconds, not {seconds!r}", call.line)
                self._step(
                    call, f"sleep {float(seconds):g}", f"sleep {seconds}", timeout, workdir, extra
                )
            elif name == "error":
                message = str(self.argument(call, "message"))
                self._step(
                    call,
                    f"printf '%s\\n' {shlex.quote(message)} >&2; exit 1",
                    f"error {message[:50]}",
                    timeout,
                    workdir,
                    extra,
                )
            elif name == "junit":
                self.junit.extend(_globs(self.argument(call, "testResults")))
            elif name == "archiveArtifacts":
                self.artifacts.extend(_globs(self.argument(call, "artifacts")))
            elif name == "checkout":
                self.steps.append(
                    Step(
                        kind="checkout",
                        name="checkout scm",
                        source=SourceLocation(self.path, call.line),
                    )
                )
            elif name == "stash":
                stash_name = str(self.argument(call, "name"))
                named = dict(call.named)
                includes = self.value(named["includes"]) if "includes" in named else "**"
                excludes = self.value(named["excludes"]) if "excludes" in named else ""
                self.steps.append(
                    Step(
                        kind="upload_artifact",
                        name=f"stash {stash_name}",
                        working_directory=workdir,
                        source=SourceLocation(self.path, call.line),
                        params={
                            "name": f"stash-{stash_name}",
                            "path": _globs(includes),
                            "exclude": _globs(excludes),
                            "if-no-files-found": "error",
                        },
                    )
                )
            elif name == "unstash":
                stash_name = str(self.argument(call, "name"))
                self.steps.append(
                    Step(
                        kind="download_artifact",
                        name=f"unstash {stash_name}",
                        working_directory=workdir,
                        source=SourceLocation(self.path, call.line),
                        params={"name": f"stash-{stash_name}", "path": "."},
                    )
                )
            elif name in ("timeout", "retry", "dir", "withEnv"):
                self.wrapper(call, timeout, workdir, extra)
            else:
                raise self.error(
                    f"step {name!r} is not supported (supported: {', '.join(SUPPORTED_STEPS)})",
                    call.line,
                )
        finally:
            self.env = saved

    def wrapper(
        self, call: Call, timeout: float | None, workdir: str | None, extra: dict[str, str]
    ) -> None:
        if call.block is None:
            raise self.error(f"{call.name} needs a {{ }} block of steps", call.line)
        if call.name == "timeout":
            seconds = duration(call, self.env, self.path, self.stage)
            timeout = seconds if timeout is None else min(timeout, seconds)
        elif call.name == "retry":
            count = self.argument(call, "count")
            self.retries = max(self.retries, int(count) - 1)  # the job is retried
        elif call.name == "dir":
            sub = str(self.argument(call, "path"))
            workdir = f"{workdir}/{sub}" if workdir else sub
        else:
            pairs = self.argument(call, "overrides")
            for item in pairs if isinstance(pairs, list) else []:
                key, sep, val = str(item).partition("=")
                if not sep:
                    raise self.error(f"withEnv entries are NAME=value, not {item!r}", call.line)
                extra[key] = val
        self.add(call.block, timeout=timeout, workdir=workdir, extra=extra)


def _globs(value: Any) -> list[str]:
    """Jenkins' comma-separated Ant patterns."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    return [str(item).strip() for item in items if str(item).strip()]
