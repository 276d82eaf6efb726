"""The native YAML pipeline: GitLab CI's keywords plus a few of opsforge's own.

Extra job keywords:

``inputs``
    globs; the job is skipped as *cached* when these files and the job's commands are
    unchanged since its last success (up-to-date checking).
``cache_dirs``
    names of persistent cache directories, exported as ``OPSFORGE_CACHE_DIR_<NAME>``
    (shared by every run; nothing is copied).
``steps``
    instead of (or after) ``script``: a list of shell strings and built-in steps,
    e.g. ``- deploy: {file: deploy.py, inventory: hosts.yml, limit: web}``.
``host`` / ``executor``
    run the job on an inventory host (``executor: ssh``) or force ``shell``/``docker``.

Top-level ``secrets``: typed secrets every job gets as masked variables::

    secrets:
      API_TOKEN: {env: CI_API_TOKEN}      # from this environment variable
      DEPLOY_KEY: {file: ~/.ssh/deploy}   # the contents of a file
      DB_PASSWORD: {cli: true}            # must be given: --secret DB_PASSWORD=...

A missing secret is an error naming file:line before anything runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.gitlab.keywords import string_list
from opsforge.pipelines.gitlab.loader import SHELL, GitLabLoader
from opsforge.pipelines.gitlab.yamlsource import YMap, loc
from opsforge.pipelines.model import Job, Step, Variable
from opsforge.pipelines.steps import step_types
from opsforge.types import Secret

__all__ = ["NativeLoader"]


class NativeLoader(GitLabLoader):
    FORMAT = "native"
    EXTRA_JOB_KEYS = frozenset({"inputs", "cache_dirs", "steps", "host", "executor"})
    EXTRA_GLOBAL_KEYS = frozenset({"secrets"})
    BODY_KEYS = frozenset({"script", "trigger", "steps"})

    def prepare(self, config: YMap) -> None:
        self.secret_vars = self._secrets(config.get("secrets"), config)

    def _secrets(self, raw: Any, config: YMap) -> dict[str, Variable]:
        if raw is None:
            return {}
        line = config.line_of("secrets")
        if not isinstance(raw, Mapping):
            raise PipelineError(
                "secrets must be a mapping of NAME: {env|file|cli}", path=config.path, line=line
            )
        out: dict[str, Variable] = {}
        for name, spec in raw.items():
            where = raw.line_of(name) if isinstance(raw, YMap) else line
            value = self._secret_value(name, spec, config.path, where)
            out[name] = Variable(Secret(value), masked=True)
        return out

    def _secret_value(self, name: str, spec: Any, path: str, line: int) -> str:
        given = self.options.secrets.get(name)
        if given is not None:
            return given.reveal()
        if not isinstance(spec, Mapping) or len(spec) != 1:
            raise PipelineError(
                f"secret {name}: give exactly one of env, file, cli", path=path, line=line
            )
        kind, value = next(iter(spec.items()))
        if kind == "env":
            found = os.environ.get(str(value))
            if found is None:
                raise PipelineError(
                    f"secret {name}: environment variable {value} is not set", path=path, line=line
                )
            return found
        if kind == "file":
            try:
                return Path(str(value)).expanduser().read_text().rstrip("\n")
            except OSError as exc:
                raise PipelineError(
                    f"secret {name}: cannot read {value}: {exc.strerror}", path=path, line=line
                ) from None
        if kind == "cli":
            raise PipelineError(
                f"secret {name} is required: give --secret {name}=...", path=path, line=line
            )
        raise PipelineError(
            f"secret {name}: unknown source {kind!r} (env, file, cli)", path=path, line=line
        )

    def finish_job(self, job: Job, definition: YMap) -> Job:
        name = job.matrix_of or job.name
        variables = {**job.variables, **self.secret_vars}
        steps = job.steps
        if "steps" in definition:
            steps = (*steps, *self._steps(name, definition))
        executor = definition.get("executor")
        if executor is not None and executor not in ("shell", "docker", "ssh"):
            raise PipelineError(
                f"executor must be shell, docker or ssh, not {executor!r}",
                path=definition.path,
                line=definition.line_of("executor"),
                job=name,
            )
        host = definition.get("host")
        return replace(
            job,
            variables=variables,
            steps=steps,
            inputs=string_list(definition.get("inputs")),
            cache_dirs=string_list(definition.get("cache_dirs")),
            host=str(host) if host else None,
            executor=str(executor) if executor else ("ssh" if host else None),
        )

    def _steps(self, name: str, definition: YMap) -> list[Step]:
        raw = definition.get("steps")
        line = definition.line_of("steps")
        if not isinstance(raw, list):
            raise PipelineError("steps must be a list", path=definition.path, line=line, job=name)
        steps: list[Step] = []
        for item in raw:
            source = loc(item) or loc(definition, "steps")
            if isinstance(item, str):
                steps.append(Step(run=item, shell=SHELL, echo=True, source=source))
                continue
            if not isinstance(item, Mapping) or len(item) != 1:
                raise PipelineError(
                    "a step is a shell string or {type: {params}}",
                    path=definition.path,
                    line=line,
                    job=name,
                )
            kind, params = next(iter(item.items()))
            if kind not in step_types():
                raise PipelineError(
                    f"unknown step type {kind!r} (known: {', '.join(step_types())})",
                    path=definition.path,
                    line=source.line if source else line,
                    job=name,
                )
            steps.append(Step(kind=kind, name=kind, params=dict(params or {}), source=source))
        return steps
