"""A CircleCI job's steps as model steps: ``run`` (with ``when: always|on_fail``),
``checkout``, caches, workspaces, artifacts and test results, ``when``/``unless``
blocks and reusable ``commands`` (parameters bound and substituted here)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from opsforge.pipelines.circleci.keys import KeyTemplateError, check_key, render_key
from opsforge.pipelines.circleci.params import bind, evaluate_logic, substitute
from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.github.yaml_source import LineMap, LineSeq, line_of, location
from opsforge.pipelines.model import Condition, RuntimeView, SourceLocation, Step

__all__ = ["ATTACH", "JobSteps", "default_shell"]

#: params key of the placeholder an ``attach_workspace`` step leaves for the loader
ATTACH = "circleci_attach_workspace"
_MAX_DEPTH = 20
_IGNORED = ("setup_remote_docker", "add_ssh_keys")


def default_shell() -> str:
    return "bash -eo pipefail {0}" if shutil.which("bash") else "sh -e {0}"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


@dataclass
class JobSteps:
    """Collects the steps, artifacts and test reports of one job instance."""

    name: str
    path: str
    commands: Mapping[str, Any]
    pipeline: Mapping[str, Any]
    branch: str
    revision: str
    strict: bool
    warnings: list[tuple[str, SourceLocation | None]]
    steps: list[Step] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)
    junit: list[str] = field(default_factory=list)
    persists: bool = False
    line: int | None = None  # of the step being converted

    def error(self, message: str, value: Any = None, key: str | None = None) -> PipelineError:
        line = line_of(value, key) if isinstance(value, LineMap) else self.line
        return PipelineError(message, path=self.path, line=line or line_of(value), job=self.name)

    def add(self, raw_steps: Any, scope: Mapping[str, Any], depth: int = 0) -> None:
        if depth > _MAX_DEPTH:
            raise self.error(
                f"commands nested deeper than {_MAX_DEPTH} (a command calling itself?)", raw_steps
            )
        if not isinstance(raw_steps, list):
            raise self.error("steps must be a list", raw_steps)
        for index, raw in enumerate(raw_steps):
            self.line = (
                raw_steps.line_of_item(index)
                if isinstance(raw_steps, LineSeq)
                else line_of(raw) or self.line
            )
            raw = substitute(raw, scope, path=self.path, job=self.name, line=self.line)
            if isinstance(raw, list):  # a steps parameter spliced in
                self.add(raw, scope, depth + 1)
            elif isinstance(raw, str):
                self.one(raw, {}, raw_steps, scope, depth)
            elif isinstance(raw, Mapping) and len(raw) == 1:
                ((kind, args),) = raw.items()
                self.one(str(kind), args, raw, scope, depth)
            else:
                raise self.error("a step is a name or a mapping with one key", raw)

    def one(self, kind: str, args: Any, raw: Any, scope: Mapping[str, Any], depth: int) -> None:
        where = location(raw, kind if isinstance(raw, LineMap) else None) or (
            SourceLocation(self.path, self.line)
        )
        handler = {
            "run": self.run,
            "checkout": self.checkout,
            "save_cache": self.save_cache,
            "restore_cache": self.restore_cache,
            "persist_to_workspace": self.persist,
            "attach_workspace": self.attach,
            "store_artifacts": self.store_artifacts,
            "store_test_results": self.store_test_results,
        }.get(kind)
        if handler is not None:
            handler(args if args is not None else {}, raw, where)
        elif kind in ("when", "unless"):
            if not isinstance(args, Mapping) or "steps" not in args:
                raise self.error(f"{kind}: needs condition: and steps:", raw, kind)
            if evaluate_logic(args.get("condition")) == (kind == "when"):
                self.add(args["steps"], scope, depth + 1)
        elif kind in _IGNORED:
            self.warnings.append(
                (f"job {self.name!r}: {kind} has no local meaning; skipped", where)
            )
        elif "/" in kind:
            message = f"orb command {kind!r} is not resolved (orbs are never fetched)"
            if self.strict:
                raise self.error(message + " (--strict)", raw, kind)
            self.warnings.append((f"job {self.name!r}: {message}; step skipped", where))
        elif kind in self.commands:
            self.command(kind, args, raw, scope, depth)
        else:
            raise self.error(
                f"unknown step or command {kind!r}", raw, kind if isinstance(raw, LineMap) else None
            )

    def command(self, name: str, args: Any, raw: Any, scope: Mapping[str, Any], depth: int) -> None:
        spec = self.commands[name]
        given = args if isinstance(args, Mapping) else {}
        values = bind(
            spec.get("parameters"),
            given,
            path=self.path,
            line=line_of(raw, name),
            job=self.name,
            what=f"command {name!r}",
        )
        self.add(spec.get("steps") or [], {**scope, "parameters": values}, depth + 1)

    def run(self, args: Any, raw: Any, where: SourceLocation | None) -> None:
        spec = {"command": args} if isinstance(args, str) else args
        if not isinstance(spec, Mapping) or not spec.get("command"):
            raise self.error("run: needs a command", raw)
        command = str(spec["command"])
        environment = spec.get("environment") or {}
        if not isinstance(environment, Mapping):
            raise self.error("run environment: must be a mapping", raw)
        # CircleCI passes environment values as text: `$` escaped for the runner's expansion
        env = {str(k): str(v).replace("$", "$$") for k, v in environment.items()}
        when = str(spec.get("when", "on_success"))
        condition = None
        if when == "always":
            condition = Condition("when: always", "runs whatever happened", lambda v: True)
        elif when == "on_fail":
            condition = Condition(
                "when: on_fail", "runs after a failure", lambda v: v.job_status == "failure"
            )
        elif when != "on_success":
            raise self.error(f"run when: must be always, on_success or on_fail, not {when!r}", raw)
        if spec.get("background"):
            self.warnings.append(
                (f"job {self.name!r}: background: true runs in the foreground locally", where)
            )
        name = str(spec.get("name") or command.strip().splitlines()[0][:60])
        self.steps.append(
            Step(
                run=command,
                name=name,
                shell=f"{spec['shell']} {{0}}" if spec.get("shell") else default_shell(),
                env=env,
                condition=condition,
                working_directory=_workdir(spec.get("working_directory")),
                source=where,
                id=f"step{len(self.steps) + 1}",
                echo=True,
            )
        )

    def checkout(self, args: Any, raw: Any, where: SourceLocation | None) -> None:
        self.steps.append(Step(kind="checkout", name="checkout", source=where))

    def _key_step(
        self,
        kind: str,
        name: str,
        keys: list[str],
        paths: list[str],
        where: SourceLocation | None,
        raw: Any,
    ) -> Step:
        for key in keys:
            try:
                check_key(key)
            except KeyTemplateError as exc:
                raise self.error(str(exc), raw) from None
        static = Step(
            kind=kind,
            name=name,
            source=where,
            id=f"step{len(self.steps) + 1}",
            params={"key": keys[0], "restore_keys": keys, "paths": paths},
        )

        def prepare(view: RuntimeView) -> Step:
            try:
                rendered = [
                    render_key(
                        k,
                        workdir=view.workdir,
                        branch=self.branch,
                        revision=self.revision,
                        env=view.env,
                    )
                    for k in keys
                ]
            except KeyTemplateError as exc:
                raise PipelineError(
                    str(exc),
                    path=where.path if where else self.path,
                    line=where.line if where else None,
                    job=self.name,
                ) from None
            return replace(
                static,
                params={"key": rendered[0], "restore_keys": rendered, "paths": paths},
                prepare=None,
            )

        return replace(static, prepare=prepare)

    def save_cache(self, args: Any, raw: Any, where: SourceLocation | None) -> None:
        if not isinstance(args, Mapping) or not args.get("key") or not args.get("paths"):
            raise self.error("save_cache needs key: and paths:", raw)
        step = self._key_step(
            "cache_save",
            f"save_cache {args['key']}",
            [str(args["key"])],
            [str(p) for p in _as_list(args["paths"])],
            where,
            raw,
        )
        when = str(args.get("when", "on_success"))
        if when == "always":
            step = replace(step, condition=Condition("when: always", "", lambda v: True))
        elif when == "on_fail":
            step = replace(
                step, condition=Condition("when: on_fail", "", lambda v: v.job_status == "failure")
            )
        self.steps.append(step)

    def restore_cache(self, args: Any, raw: Any, where: SourceLocation | None) -> None:
        if isinstance(args, Mapping) and "keys" in args and not isinstance(args["keys"], list):
            raise self.error("restore_cache keys: must be a list", raw)
        keys = (
            [str(k) for k in _as_list(args.get("keys") or args.get("key"))]
            if isinstance(args, Mapping)
            else []
        )
        if not keys:
            raise self.error("restore_cache needs key: or keys:", raw)
        self.steps.append(
            self._key_step("cache_restore", f"restore_cache {keys[0]}", keys, [], where, raw)
        )

    def persist(self, args: Any, raw: Any, where: SourceLocation | None) -> None:
        if not isinstance(args, Mapping) or "root" not in args or not args.get("paths"):
            raise self.error("persist_to_workspace needs root: and paths:", raw)
        self.persists = True
        self.steps.append(
            Step(
                kind="upload_artifact",
                name="persist_to_workspace",
                source=where,
                working_directory=_workdir(args["root"]),
                params={
                    "name": f"workspace-{self.name}",
                    "path": [str(p) for p in _as_list(args["paths"])],
                },
            )
        )

    def attach(self, args: Any, raw: Any, where: SourceLocation | None) -> None:
        at = str(args.get("at", ".")) if isinstance(args, Mapping) else "."
        self.steps.append(
            Step(
                kind="download_artifact",
                name="attach_workspace",
                source=where,
                params={ATTACH: _workdir(at) or "."},
            )
        )

    def store_artifacts(self, args: Any, raw: Any, where: SourceLocation | None) -> None:
        if not isinstance(args, Mapping) or not args.get("path"):
            raise self.error("store_artifacts needs path:", raw)
        self.artifacts.append(_workdir(args["path"]) or ".")

    def store_test_results(self, args: Any, raw: Any, where: SourceLocation | None) -> None:
        if not isinstance(args, Mapping) or not args.get("path"):
            raise self.error("store_test_results needs path:", raw)
        target = _workdir(args["path"]) or "."
        self.junit.append(target if target.endswith(".xml") else f"{target}/**/*.xml")


def _workdir(value: Any) -> str | None:
    """A CircleCI path as one relative to the job's workdir (``~/project`` is the workdir)."""
    if value in (None, "", "."):
        return None
    text = str(value)
    for home in ("~/project/", "~/project"):
        if text.startswith(home):
            text = text[len(home) :]
            break
    return str(Path(text)) if text else None
