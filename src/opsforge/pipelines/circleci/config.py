"""A CircleCI 2.1 ``config.yml`` as a :class:`~opsforge.pipelines.model.Pipeline`.

Every job of every workflow becomes a model job (matrix instances named as CircleCI
names them: ``test-3.12``); with more than one workflow the names are
``<workflow>/<job>``. ``requires`` become needs; branch/tag ``filters`` and workflow
``when``/``unless`` leave jobs out with the reason; ``type: approval`` jobs are manual.
Executors, reusable commands and parameters are resolved here; orbs are never fetched
(their jobs and commands are reported as unresolved).
"""

from __future__ import annotations

import itertools
import re
import shlex
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from opsforge.pipelines.circleci.params import bind, evaluate_logic, substitute
from opsforge.pipelines.circleci.steps import ATTACH, JobSteps
from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.formats import LoadOptions
from opsforge.pipelines.github.context import GitState, git_state
from opsforge.pipelines.github.yaml_source import (
    FileLoader,
    LineMap,
    LineSeq,
    line_of,
    load_yaml,
    location,
)
from opsforge.pipelines.model import (
    Artifacts,
    ExcludedJob,
    Image,
    Job,
    Need,
    Pipeline,
    Service,
    SourceLocation,
    Step,
    Variable,
    When,
)

__all__ = ["load_config"]

TOP_KEYS = frozenset(
    {"version", "orbs", "parameters", "executors", "commands", "jobs", "workflows", "setup"}
)
JOB_KEYS = frozenset(
    {
        "docker",
        "machine",
        "macos",
        "executor",
        "steps",
        "parameters",
        "environment",
        "working_directory",
        "parallelism",
        "resource_class",
        "shell",
        "description",
        "circleci_ip_ranges",
    }
)
USE_KEYS = frozenset(
    {"requires", "matrix", "filters", "name", "type", "context", "pre-steps", "post-steps"}
)


@dataclass
class _Use:
    """One job in a workflow (one matrix instance)."""

    name: str
    job: str
    params: dict[str, Any]
    requires: list[str]
    filters: Any
    approval: bool
    raw: Any
    workflow: str
    alias: str
    pre: list[Any]
    post: list[Any]
    local: str = ""  # the name inside its workflow (without the workflow/ prefix)
    local_alias: str = ""


def _matches(name: str, patterns: Any) -> bool:
    for pattern in patterns if isinstance(patterns, list) else [patterns]:
        text = str(pattern)
        if len(text) > 1 and text.startswith("/") and text.endswith("/"):
            if re.fullmatch(text[1:-1], name):
                return True
        elif text == name:
            return True
    return False


def filter_reason(filters: Any, git: GitState) -> str | None:
    """Why CircleCI's branch/tag filters leave a job out for this ref, or None."""
    filters = filters if isinstance(filters, Mapping) else {}
    if git.ref_type == "tag":
        tags = filters.get("tags") or {}
        if not isinstance(tags, Mapping) or "only" not in tags:
            return f"tag {git.ref_name!r}: jobs run for tags only with filters.tags.only"
        if not _matches(git.ref_name, tags["only"]):
            return f"tag {git.ref_name!r} does not match filters.tags.only"
        if "ignore" in tags and _matches(git.ref_name, tags["ignore"]):
            return f"tag {git.ref_name!r} matches filters.tags.ignore"
        return None
    branches = filters.get("branches") or {}
    if isinstance(branches, Mapping):
        if "only" in branches and not _matches(git.ref_name, branches["only"]):
            return f"branch {git.ref_name!r} does not match filters.branches.only"
        if "ignore" in branches and _matches(git.ref_name, branches["ignore"]):
            return f"branch {git.ref_name!r} matches filters.branches.ignore"
    return None


class _Loader(FileLoader):
    def section(self, data: LineMap, key: str) -> LineMap:
        value = data.get(key) or LineMap()
        if not isinstance(value, LineMap):
            raise self.error(f"{key}: must be a mapping", data, key)
        return value

    def load(self, path: Path) -> Pipeline:
        data = load_yaml(path, self.shown)
        if not isinstance(data, LineMap) or "version" not in data:
            raise self.error("not a CircleCI config: no version:", data)
        if str(data["version"]) not in ("2", "2.0", "2.1"):
            raise self.error(
                f"CircleCI config version {data['version']} is not supported (2.1 is)",
                data,
                "version",
            )
        unknown = sorted(set(data) - TOP_KEYS)
        if unknown:
            raise self.error(f"unknown top-level key {unknown[0]!r}", data, unknown[0])
        for orb, ref in self.section(data, "orbs").items():
            self.warnings.append(
                (
                    f"orb {orb} ({ref}) is not resolved: orbs are never fetched; "
                    "its jobs and commands are left out",
                    location(data["orbs"], orb),
                )
            )
        self.git = git_state(self.root, self.options.ref)
        params = bind(
            data.get("parameters"),
            dict(self.options.inputs),
            path=self.shown,
            line=line_of(data, "parameters"),
            job=None,
            what="pipeline",
        )
        self.scope = {
            "pipeline": {
                "parameters": params,
                "number": 1,
                "id": str(uuid.uuid4()),
                "trigger_source": "local",
                "git": {
                    "branch": self.git.ref_name if self.git.ref_type == "branch" else "",
                    "tag": self.git.ref_name if self.git.ref_type == "tag" else "",
                    "revision": self.git.sha,
                    "base_revision": self.git.sha,
                },
                "project": {"git_url": "", "type": "local"},
            }
        }
        self.executors = self.section(data, "executors")
        self.commands = self.section(data, "commands")
        self.jobs = self.section(data, "jobs")
        for what, section in (
            ("executors", self.executors),
            ("commands", self.commands),
            ("jobs", self.jobs),
        ):
            for name, value in section.items():
                if not isinstance(value, LineMap):
                    raise self.error(f"{what}: {name} must be a mapping", section, name)
        workflows = self.section(data, "workflows")
        names = [w for w in workflows if w != "version"]
        if not names:
            if "build" not in self.jobs:
                raise self.error("no workflows: and no job named build", data)
            uses = [self.plain_use("build", "build", data)]
        else:
            uses = []
            for wf in names:
                uses.extend(self.workflow(wf, workflows[wf], len(names) > 1))
        jobs = self.build_jobs(uses)
        return Pipeline(
            name=self.shown,
            format="circleci",
            source=SourceLocation(self.shown, 1),
            root=self.root,
            jobs=tuple(jobs),
            stages=tuple(names or ["build"]),
            excluded=tuple(self.excluded),
            warnings=tuple(self.warnings),
        )

    def plain_use(self, name: str, job: str, raw: Any) -> _Use:
        return _Use(name, job, {}, [], None, False, raw, "build", name, [], [], name, name)

    def workflow(self, wf: str, spec: Any, prefix: bool) -> list[_Use]:
        if not isinstance(spec, Mapping) or not isinstance(spec.get("jobs"), list):
            raise self.error(f"workflow {wf!r} needs a jobs: list", spec)
        uses: list[_Use] = []
        for entry in spec["jobs"]:
            if isinstance(entry, str):
                job, conf = entry, LineMap()
            elif isinstance(entry, Mapping) and len(entry) == 1:
                ((job, conf),) = entry.items()
                conf = conf if conf is not None else LineMap()
            else:
                raise self.error("a workflow job is a name or a mapping with one key", entry)
            conf = substitute(conf, self.scope, path=self.shown, job=job, line=line_of(entry))
            uses.extend(self.instances(wf, str(job), conf, entry, prefix))
        names = [u.name for u in uses]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise self.error(
                f"workflow {wf!r}: job name {duplicate!r} is used twice (give name:)", spec, "jobs"
            )
        condition = spec.get("when", spec.get("unless"))
        if condition is not None:
            value = evaluate_logic(
                substitute(
                    condition, self.scope, path=self.shown, job=None, line=line_of(spec, "when")
                )
            )
            if value != ("when" in spec):
                for use in uses:
                    self.excluded.append(
                        ExcludedJob(
                            use.name,
                            f"workflow {wf!r}: "
                            f"{'when' if 'when' in spec else 'unless'}"
                            " condition says no",
                            location(use.raw),
                        )
                    )
                return []
        return uses

    def instances(self, wf: str, job: str, conf: Any, raw: Any, prefix: bool) -> list[_Use]:
        unknown = [k for k in conf if k not in USE_KEYS]
        approval = conf.get("type") == "approval"
        if job not in self.jobs and not approval and "/" not in job:
            raise self.error(f"workflow {wf!r} uses unknown job {job!r}", raw, None, job)
        declared = (
            {} if approval or job not in self.jobs else (self.jobs[job].get("parameters") or {})
        )
        bad = [k for k in unknown if k not in declared]
        if bad:
            raise self.error(
                f"unknown key {bad[0]!r} for job {job!r} in workflow {wf!r}", conf, bad[0], job
            )
        params = {k: conf[k] for k in unknown}
        base = str(conf.get("name") or job)
        requires_raw = conf.get("requires") or []
        if not isinstance(requires_raw, list):
            raise self.error("requires must be a list of job names", conf, "requires", job)
        requires = [str(r) for r in requires_raw]
        cells: list[dict[str, Any]] = [{}]
        alias = base
        matrix = conf.get("matrix")
        if matrix is not None:
            vectors = matrix.get("parameters") if isinstance(matrix, Mapping) else None
            if not isinstance(vectors, Mapping) or not vectors:
                raise self.error("matrix needs parameters:", conf, "matrix", job)
            cells = [
                dict(zip(vectors, combo, strict=True))
                for combo in itertools.product(
                    *(v if isinstance(v, list) else [v] for v in vectors.values())
                )
            ]
            excluded = matrix.get("exclude") or []
            cells = [
                c
                for c in cells
                if not any(all(str(c.get(k)) == str(v) for k, v in e.items()) for e in excluded)
            ]
            alias = str(matrix.get("alias") or job)
        out = []
        for cell in cells:
            name = base if not cell else f"{base}-{'-'.join(_text(v) for v in cell.values())}"
            if conf.get("name") and cell:
                name = substitute(str(conf["name"]), {"matrix": cell}, path=self.shown, job=job)
            full = f"{wf}/{name}" if prefix else name
            out.append(
                _Use(
                    full,
                    job,
                    {**params, **cell},
                    requires,
                    conf.get("filters"),
                    approval,
                    raw,
                    wf,
                    f"{wf}/{alias}" if prefix else alias,
                    list(conf.get("pre-steps") or []),
                    list(conf.get("post-steps") or []),
                    str(name),
                    alias,
                )
            )
        return out

    def build_jobs(self, uses: list[_Use]) -> list[Job]:
        by_alias: dict[tuple[str, str], list[str]] = {}
        for use in uses:
            by_alias.setdefault((use.workflow, use.local_alias), []).append(use.name)
            if use.local != use.local_alias:
                by_alias.setdefault((use.workflow, use.local), []).append(use.name)
        needs: dict[str, list[str]] = {}
        for use in uses:
            resolved: list[str] = []
            for req in use.requires:
                found = by_alias.get((use.workflow, req))
                if not found:
                    raise self.error(f"requires unknown job {req!r}", use.raw, None, use.name)
                resolved.extend(found)
            needs[use.name] = resolved
        gone: dict[str, str] = {}
        for use in uses:
            if "/" in use.job and use.job not in self.jobs:
                message = f"orb job {use.job!r} is not resolved (orbs are never fetched)"
                if self.options.strict:
                    raise self.error(message + " (--strict)", use.raw, None, use.name)
                gone[use.name] = message
            elif why := filter_reason(use.filters, self.git):
                gone[use.name] = why
        changed = True
        while changed:
            changed = False
            for use in uses:
                missing = [n for n in needs[use.name] if n in gone]
                if use.name not in gone and missing:
                    gone[use.name] = f"requires {missing[0]!r}, which does not run"
                    changed = True
        for use in uses:
            if use.name in gone:
                self.excluded.append(
                    ExcludedJob(use.name, gone[use.name], location(use.raw), use.workflow)
                )
        kept = [u for u in uses if u.name not in gone]
        built = {u.name: self.job(u, tuple(needs[u.name])) for u in kept}
        persisted = {name for name, (_, persists) in built.items() if persists}
        return [self.attach(job, needs, persisted) for job, _ in built.values()]

    def attach(self, job: Job, needs: Mapping[str, list[str]], persisted: set[str]) -> Job:
        """Placeholders of attach_workspace: one download per upstream job that persisted,
        oldest first, so later layers win as in CircleCI."""
        order: list[str] = []

        def visit(name: str, path: tuple[str, ...]) -> None:
            for up in needs.get(name, []):
                if up in path:
                    cycle = " -> ".join((*path[path.index(up) :], up))
                    line = job.source.line if job.source else None
                    raise PipelineError(
                        f"requires form a cycle: {cycle}", path=self.shown, line=line, job=job.name
                    )
                if up not in order:
                    visit(up, (*path, up))
                    order.append(up)

        visit(job.name, (job.name,))
        steps: list[Step] = []
        for step in job.steps:
            if ATTACH not in step.params:
                steps.append(step)
                continue
            for up in (u for u in order if u in persisted):
                steps.append(
                    replace(
                        step,
                        name=f"attach_workspace from {up}",
                        params={"name": f"workspace-{up}", "path": step.params[ATTACH]},
                    )
                )
        return replace(job, steps=tuple(steps))

    def executor(self, spec: Mapping[str, Any], use: _Use) -> tuple[Mapping[str, Any], str]:
        """The executor settings of a job (a named executor with its parameters bound)."""
        ref = spec.get("executor")
        if ref is None:
            return spec, ""
        if not isinstance(ref, str | Mapping) or (isinstance(ref, Mapping) and "name" not in ref):
            raise self.error(
                "executor: is a name or {name: ..., <parameters>}", spec, "executor", use.name
            )
        name, given = (
            (ref, {})
            if isinstance(ref, str)
            else (str(ref.get("name")), {k: v for k, v in ref.items() if k != "name"})
        )
        if name not in self.executors:
            if "/" in name:
                self.warnings.append(
                    (
                        f"job {use.name!r}: orb executor {name!r} is not "
                        "resolved; the shell executor runs it",
                        location(spec, "executor"),
                    )
                )
                return {}, name
            raise self.error(f"unknown executor {name!r}", spec, "executor", use.name)
        body = self.executors[name]
        values = bind(
            body.get("parameters"),
            given,
            path=self.shown,
            line=line_of(spec, "executor"),
            job=use.name,
            what=f"executor {name!r}",
        )
        return substitute(
            body, {**self.scope, "parameters": values}, path=self.shown, job=use.name
        ), name

    def job(self, use: _Use, needs: tuple[str, ...]) -> tuple[Job, bool]:
        where = location(use.raw)
        if use.approval:
            return Job(
                name=use.name,
                stage=use.workflow,
                when=When.MANUAL,
                needs=tuple(Need(n) for n in needs),
                source=where,
            ), False
        spec = self.jobs[use.job]
        if not isinstance(spec, Mapping):
            raise self.error("a job must be a mapping", self.jobs, use.job, use.job)
        unknown = sorted(set(spec) - JOB_KEYS)
        if unknown:
            raise self.error(f"unknown job key {unknown[0]!r}", spec, unknown[0], use.job)
        values = bind(
            spec.get("parameters"),
            use.params,
            path=self.shown,
            line=line_of(use.raw),
            job=use.name,
            what=f"job {use.job!r}",
        )
        scope = {**self.scope, "parameters": values}
        spec = substitute(
            {k: v for k, v in spec.items() if k != "steps"}, scope, path=self.shown, job=use.name
        ) | {"steps": spec.get("steps")}
        executor, _ = self.executor(spec, use)
        merged = {**executor, **{k: v for k, v in spec.items() if k != "executor"}}
        env = {**(executor.get("environment") or {}), **(spec.get("environment") or {})}
        parallelism = merged.get("parallelism") or 1
        if not isinstance(parallelism, int) or isinstance(parallelism, bool):
            raise self.error("parallelism must be a whole number", spec, "parallelism", use.name)
        if parallelism > 1:
            self.warnings.append(
                (
                    f"job {use.name!r}: parallelism {merged['parallelism']} runs "
                    "once locally (CIRCLE_NODE_TOTAL=1)",
                    location(spec, "parallelism"),
                )
            )
        steps = JobSteps(
            use.name,
            self.shown,
            self.commands,
            self.scope,
            self.git.ref_name,
            self.git.sha,
            self.options.strict,
            self.warnings,
        )
        for key in ("steps", "docker"):
            if key in merged and not isinstance(merged[key], list):
                raise self.error(f"{key} must be a list", spec, key, use.name)
        steps.add(_joined(use.pre, spec.get("steps") or [], use.post), scope)
        if not steps.steps:
            raise self.error("a job needs steps:", spec, None, use.name)
        docker = [d for d in merged.get("docker") or [] if isinstance(d, Mapping)]
        images = [d.get("image") for d in docker]
        variables = {k: Variable(v, raw=True) for k, v in self.circle_env(use).items()}
        variables.update({str(k): Variable(_text(v), raw=True) for k, v in env.items()})
        artifacts = None
        if steps.artifacts or steps.junit:
            artifacts = Artifacts(
                paths=tuple(steps.artifacts),
                reports={"junit": tuple(steps.junit)} if steps.junit else {},
            )
        return Job(
            name=use.name,
            stage=use.workflow,
            steps=tuple(steps.steps),
            needs=tuple(Need(n) for n in needs),
            variables=variables,
            matrix={k: _text(v) for k, v in use.params.items()},
            matrix_of=use.alias if use.alias != use.name else None,
            artifacts=artifacts,
            image=Image(str(images[0])) if images else None,
            services=tuple(_secondary(d) for d in docker[1:]),
            source=where,
        ), steps.persists

    def circle_env(self, use: _Use) -> dict[str, str]:
        env = {
            "CI": "true",
            "CIRCLECI": "true",
            "CIRCLE_JOB": use.name,
            "CIRCLE_SHA1": self.git.sha,
            "CIRCLE_BUILD_NUM": "1",
            "CIRCLE_NODE_INDEX": "0",
            "CIRCLE_NODE_TOTAL": "1",
            "CIRCLE_WORKFLOW_ID": "local",
            "CIRCLE_PROJECT_REPONAME": self.git.repository.split("/")[-1],
            "CIRCLE_PROJECT_USERNAME": self.git.repository.split("/")[0],
        }
        if self.git.ref_type == "tag":
            env["CIRCLE_TAG"] = self.git.ref_name
        else:
            env["CIRCLE_BRANCH"] = self.git.ref_name
        return env


def _words(value: Any) -> tuple[str, ...]:
    """A CircleCI ``command``/``entrypoint``: a list, or a string split as a shell would."""
    if isinstance(value, list):
        return tuple(_text(v) for v in value)
    return tuple(shlex.split(_text(value)))


def _secondary(spec: Mapping[str, Any]) -> Service:
    """A secondary ``docker:`` image: a service the job reaches on localhost (and by its
    ``name:``, when it has one)."""
    env = spec.get("environment")
    return Service(
        _text(spec.get("image")),
        alias=_text(spec["name"]) if spec.get("name") else None,
        command=_words(spec.get("command")) if spec.get("command") is not None else (),
        entrypoint=_words(spec["entrypoint"]) if spec.get("entrypoint") is not None else None,
        variables={str(k): _text(v) for k, v in env.items()} if isinstance(env, Mapping) else {},
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _joined(*parts: Any) -> LineSeq:
    """Lists of steps as one, each item keeping its line."""
    out = LineSeq()
    for part in parts:
        for index, item in enumerate(part):
            out.append(item)
            out.item_lines.append(part.line_of_item(index) if isinstance(part, LineSeq) else 0)
    if parts and isinstance(parts[1], LineSeq):
        out.path, out.line = parts[1].path, parts[1].line
    return out


def load_config(path: Path, options: LoadOptions) -> Pipeline:
    """Load ``.circleci/config.yml`` (see the module docstring)."""
    return _Loader(path, options).load(path)
