"""What every exporter needs from a pipeline: jobs grouped by matrix, explicit
dependencies (stage order made into needs), the user's variables and secrets, the
commands of each job, and a signature of the job graph for round-trip checks."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opsforge.pipelines.model import Job, Pipeline, Service, Step

__all__ = [
    "Group",
    "after_script",
    "commands",
    "effective_needs",
    "graph_signature",
    "groups",
    "identifier",
    "levels",
    "script",
    "service_extras",
    "user_variables",
]

_ECHO = re.compile(r"^printf '%s\\n' (.+)$")


def commands(step: Step) -> list[str]:
    """The commands of a shell step as the user wrote them (GitLab-style steps print each
    command before running it; that printing is taken back out)."""
    given = step.params.get("commands")
    if isinstance(given, list | tuple):
        return [str(c) for c in given]
    lines = step.run.split("\n")
    if not lines or not _ECHO.match(lines[0]):
        return [step.run.rstrip("\n")] if step.run.strip() else []
    out: list[str] = []
    current: list[str] | None = None
    for line in lines:
        match = _ECHO.match(line)
        if match and _is_marker(match.group(1)):
            if current is not None:
                out.append("\n".join(current).rstrip("\n"))
            current = []
        elif current is not None:
            current.append(line)
    if current is not None:
        out.append("\n".join(current).rstrip("\n"))
    return [c for c in out if c]


def _is_marker(quoted: str) -> bool:
    try:
        parts = shlex.split(quoted)
    except ValueError:
        return False
    return len(parts) == 1 and parts[0].startswith("$ ")


def effective_needs(pipeline: Pipeline) -> dict[str, tuple[str, ...]]:
    """Each job's dependencies: its needs, or every job of the stages before its own."""
    order = {stage: i for i, stage in enumerate(pipeline.stages)}
    out: dict[str, tuple[str, ...]] = {}
    for job in pipeline.jobs:
        if job.needs is not None:
            out[job.name] = tuple(n.job for n in job.needs if n.job in pipeline.job_names)
        else:
            mine = order.get(job.stage, 0)
            out[job.name] = tuple(j.name for j in pipeline.jobs if order.get(j.stage, 0) < mine)
    return out


def levels(pipeline: Pipeline) -> list[list[str]]:
    """Jobs by depth (longest chain of needs before them), in file order within a level."""
    needs = effective_needs(pipeline)
    depth: dict[str, int] = {}

    def of(name: str, seen: tuple[str, ...] = ()) -> int:
        if name not in depth:
            if name in seen:
                raise ValueError(f"cycle through {name}")
            depth[name] = 1 + max((of(n, (*seen, name)) for n in needs[name]), default=-1)
        return depth[name]

    for job in pipeline.jobs:
        of(job.name)
    out: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for job in pipeline.jobs:
        out[depth[job.name]].append(job.name)
    return out


def identifier(name: str) -> str:
    """A job id every target accepts: letters, digits, ``_`` and ``-``."""
    text = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "job"
    return text if text[0].isalpha() or text[0] == "_" else f"job-{text}"


@dataclass
class Group:
    """One job definition to write: a plain job, or the cells of one matrix."""

    name: str  # the job's name, or the matrix's (``Job.matrix_of``)
    jobs: list[Job]
    needs: list[str] = field(default_factory=list)  # group names

    @property
    def first(self) -> Job:
        return self.jobs[0]

    @property
    def is_matrix(self) -> bool:
        return bool(self.first.matrix_of and self.first.matrix)

    @property
    def axes(self) -> list[str]:
        return list(self.first.matrix) if self.is_matrix else []

    @property
    def cells(self) -> list[dict[str, str]]:
        return [dict(job.matrix) for job in self.jobs]


def groups(pipeline: Pipeline) -> list[Group]:
    """Jobs grouped by matrix, in file order, with needs between groups."""
    by_name: dict[str, Group] = {}
    owner: dict[str, str] = {}
    for job in pipeline.jobs:
        key = job.matrix_of if job.matrix_of and job.matrix else job.name
        by_name.setdefault(key, Group(key, [])).jobs.append(job)
        owner[job.name] = key
    needs = effective_needs(pipeline)
    for group in by_name.values():
        wanted: list[str] = []
        for job in group.jobs:
            for need in needs[job.name]:
                if owner[need] not in wanted and owner[need] != group.name:
                    wanted.append(owner[need])
        group.needs = wanted
    return list(by_name.values())


def user_variables(job: Job | Pipeline) -> tuple[dict[str, str], list[str]]:
    """Variables the user wrote (not predefined ones, not matrix values) and the names of
    secret ones."""
    plain: dict[str, str] = {}
    secret: list[str] = []
    matrix = job.matrix if isinstance(job, Job) else {}
    for name, var in job.variables.items():
        if name in matrix:
            continue
        if var.is_secret:
            secret.append(name)
        elif var.source is not None:
            plain[name] = var.reveal()
    return plain, secret


def script(job: Job) -> list[str]:
    out: list[str] = []
    for step in (*job.before_steps, *job.steps):
        if step.kind == "shell":
            out.extend(commands(step))
    return out


def after_script(job: Job) -> list[str]:
    return [c for step in job.after_steps if step.kind == "shell" for c in commands(step)]


def graph_signature(pipeline: Pipeline) -> set[tuple[str, frozenset[str]]]:
    """The job graph independent of how a system names things: each job as its base name
    plus matrix values, with every job it (transitively) waits for."""
    needs = effective_needs(pipeline)

    def canon(name: str) -> str:
        job = pipeline.job(name)
        if job.matrix_of and job.matrix:
            values = ",".join(f"{k}={v}" for k, v in sorted(job.matrix.items()))
            return f"{identifier(job.matrix_of)}[{values}]"
        return identifier(name)

    closure: dict[str, set[str]] = {}

    def before(name: str) -> set[str]:
        if name not in closure:
            closure[name] = set()
            for need in needs[name]:
                closure[name] |= {need, *before(need)}
        return closure[name]

    return {(canon(j.name), frozenset(canon(n) for n in before(j.name))) for j in pipeline.jobs}


def plain_mapping(values: Mapping[str, str]) -> dict[str, str]:
    return {str(k): str(v) for k, v in values.items()}


def service_extras(service: Service, env_key: str) -> dict[str, Any]:
    """A service's entrypoint, command and variables (as ``env_key``), where set: what
    GitLab's ``services:`` and CircleCI's secondary images both take."""
    out: dict[str, Any] = {}
    if service.entrypoint is not None:
        out["entrypoint"] = list(service.entrypoint)
    if service.command:
        out["command"] = list(service.command)
    if service.variables:
        out[env_key] = dict(service.variables)
    return out
