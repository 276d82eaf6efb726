"""A pipeline as a declarative Jenkinsfile: jobs by depth as sequential stages (several
at one depth as ``parallel``), a matrix as ``matrix { axes }`` with the missing cells
excluded, variables in ``environment``, secrets as ``credentials()``, options timeout
and retry, manual jobs with ``input``, ``when: always``/``on_failure`` jobs as the
pipeline's ``post`` blocks. Jenkins runs stages in order, so a job that needed only
part of the jobs before it now waits for all of them (named in a warning)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from opsforge.pipelines.export.graph import (
    Group,
    after_script,
    effective_needs,
    groups,
    identifier,
    levels,
    script,
    user_variables,
)
from opsforge.pipelines.model import Job, Pipeline, When

__all__ = ["to_jenkins"]


def _q(text: str) -> str:
    """A Groovy string literal that is never interpolated."""
    if "\n" in text:
        return "'''" + text.replace("\\", "\\\\").replace("'''", "\\'\\'\\'") + "'''"
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _stash_names(group: Group) -> list[str]:
    """The stash each cell of ``group`` leaves (its artifacts for later stages)."""
    base = identifier(group.name)
    return (
        [base + "".join(f"-{v}" for v in cell.values()) for cell in group.cells]
        if (group.is_matrix)
        else [base]
    )


def _stash_expr(group: Group) -> str:
    """The stash name as the stage writes it (a GString over the axes for a matrix)."""
    if not group.is_matrix:
        return _q(identifier(group.name))
    return '"' + identifier(group.name) + "".join(f"-${{{a}}}" for a in group.axes) + '"'


def _steps(job: Job, indent: str, ctx: _Context) -> list[str]:
    lines = [f"{indent}unstash {_q(name)}" for name in ctx.unstash.get(job.name, ())]
    lines += [f"{indent}sh {_q(cmd)}" for cmd in script(job)]
    if not lines:
        lines.append(f"{indent}echo 'nothing to do'")
    if job.artifacts is not None:
        if job.artifacts.paths:
            paths = _q(", ".join(job.artifacts.paths))
            if job.name in ctx.stash:
                lines.append(
                    f"{indent}stash name: {ctx.stash[job.name]}, includes: "
                    f"{_q(','.join(_ant(p) for p in job.artifacts.paths))}"
                )
            lines.append(f"{indent}archiveArtifacts artifacts: {paths}")
        for report in job.artifacts.reports.get("junit", ()):
            lines.append(f"{indent}junit {_q(report)}")
    return lines


def _ant(path: str) -> str:
    """An Ant pattern for an artifact path: a directory means everything below it."""
    return (
        path
        if any(c in path for c in "*?") or "." in Path(path).name
        else (path.rstrip("/") + "/**")
    )


@dataclass
class _Context:
    """Stashes: who leaves one (job -> name expression) and who takes which."""

    stash: dict[str, str]
    unstash: dict[str, list[str]]


def _context(pipeline: Pipeline, all_groups: list[Group]) -> _Context:
    by_name = {g.name: g for g in all_groups}
    ctx = _Context({}, {})
    for group in all_groups:
        if group.first.artifacts is not None and group.first.artifacts.paths:
            for job in group.jobs:
                ctx.stash[job.name] = _stash_expr(group)
    for group in all_groups:
        wanted = [
            n
            for need in group.needs
            if by_name[need].first.name in ctx.stash
            for n in _stash_names(by_name[need])
        ]
        for job in group.jobs:
            ctx.unstash[job.name] = wanted
    return ctx


def _stage_body(job: Job, indent: str, warnings: list[str], ctx: _Context) -> list[str]:
    out: list[str] = []
    if job.image is not None:
        out.append(f"{indent}agent {{ docker {{ image {_q(job.image.name)} }} }}")
    if job.services:
        names = ", ".join(s.name for s in job.services)
        warnings.append(f"{job.name}: services ({names}) have no declarative equivalent; left out")
    plain, secret = user_variables(job)
    entries = [f"{k} = {_q(v)}" for k, v in plain.items()]
    entries += [f"{k} = credentials({_q(k)})" for k in secret]
    if entries:
        out.append(f"{indent}environment {{")
        out += [f"{indent}    {e}" for e in entries]
        out.append(f"{indent}}}")
    options = []
    if job.timeout is not None:
        options.append(f"timeout(time: {int(job.timeout)}, unit: 'SECONDS')")
    if job.retry.max:
        options.append(f"retry({job.retry.max + 1})")
    if options:
        out.append(f"{indent}options {{ {'; '.join(options)} }}")
    if job.when is When.MANUAL:
        out.append(f"{indent}input {{ message {_q(f'Run {job.name}?')} }}")
    if job.allow_failure.allowed:
        warnings.append(f"{job.name}: allow_failure has no declarative equivalent; left out")
    out.append(f"{indent}steps {{")
    out += _steps(job, indent + "    ", ctx)
    out.append(f"{indent}}}")
    if after := after_script(job):
        out.append(f"{indent}post {{ always {{")
        out += [f"{indent}    sh {_q(cmd)}" for cmd in after]
        out.append(f"{indent}}} }}")
    return out


def _matrix(group: Group, indent: str, warnings: list[str], ctx: _Context) -> list[str]:
    axes = group.axes
    values = {a: list(dict.fromkeys(c[a] for c in group.cells)) for a in axes}
    present = {tuple(c[a] for a in axes) for c in group.cells}
    out = [
        f"{indent}stage({_q(group.name)}) {{",
        f"{indent}    matrix {{",
        f"{indent}        axes {{",
    ]
    for axis in axes:
        listed = ", ".join(_q(v) for v in values[axis])
        out.append(f"{indent}            axis {{ name {_q(axis)}; values {listed} }}")
    out.append(f"{indent}        }}")
    missing = [combo for combo in itertools.product(*values.values()) if combo not in present]
    if missing:
        out.append(f"{indent}        excludes {{")
        for combo in missing:
            axes_text = " ".join(
                f"axis {{ name {_q(a)}; values {_q(v)} }}" for a, v in zip(axes, combo, strict=True)
            )
            out.append(f"{indent}            exclude {{ {axes_text} }}")
        out.append(f"{indent}        }}")
    out += [f"{indent}        stages {{", f"{indent}            stage({_q(group.name)}) {{"]
    out += _stage_body(group.first, indent + "                ", warnings, ctx)
    out += [f"{indent}            }}", f"{indent}        }}", f"{indent}    }}", f"{indent}}}"]
    return out


def _stage(group: Group, indent: str, warnings: list[str], ctx: _Context) -> list[str]:
    if group.is_matrix:
        return _matrix(group, indent, warnings, ctx)
    return [
        f"{indent}stage({_q(group.name)}) {{",
        *_stage_body(group.first, indent + "    ", warnings, ctx),
        f"{indent}}}",
    ]


def to_jenkins(pipeline: Pipeline, warnings: list[str]) -> str:
    all_groups = groups(pipeline)
    ctx = _context(pipeline, all_groups)
    owner = {job.name: g for g in all_groups for job in g.jobs}
    post = [g for g in all_groups if g.first.when in (When.ALWAYS, When.ON_FAILURE)]
    needs = effective_needs(pipeline)
    lines = [
        f"// written by opsforge pipeline export from {pipeline.source.path}",
        "pipeline {",
        "    agent any",
    ]
    plain, secret = user_variables(pipeline)
    if plain or secret:
        lines.append("    environment {")
        lines += [f"        {k} = {_q(v)}" for k, v in plain.items()]
        lines += [f"        {k} = credentials({_q(k)})" for k in secret]
        lines.append("    }")
    lines.append("    stages {")
    seen: set[str] = set()
    before: set[str] = set()
    for index, level in enumerate(levels(pipeline)):
        chosen = [owner[n] for n in level if owner[n] not in post and owner[n].name not in seen]
        chosen = list({g.name: g for g in chosen}.values())
        for group in chosen:
            seen.add(group.name)
            wanted = {n for job in group.jobs for n in needs[job.name]}
            extra = before - wanted - {j.name for g in post for j in g.jobs}
            if extra and index:
                warnings.append(
                    f"{group.name}: runs after every earlier stage in Jenkins "
                    f"(also {', '.join(sorted(extra))})"
                )
        if len(chosen) == 1:
            lines += _stage(chosen[0], "        ", warnings, ctx)
        elif chosen:
            lines.append(f"        stage({_q(f'parallel {index + 1}')}) {{")
            lines.append("            parallel {")
            for group in chosen:
                lines += _stage(group, "                ", warnings, ctx)
            lines += ["            }", "        }"]
        before |= {job.name for g in chosen for job in g.jobs}
    lines.append("    }")
    if post:
        lines.append("    post {")
        for when, block in ((When.ALWAYS, "always"), (When.ON_FAILURE, "failure")):
            chosen = [g for g in post if g.first.when is when]
            if chosen:
                lines.append(f"        {block} {{")
                for group in chosen:
                    lines += _steps(group.first, "            ", ctx)
                lines.append("        }")
        lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n"
