"""A pipeline as a GitHub Actions workflow: one job per job (a matrix as
``strategy.matrix.include`` with exactly its cells, the values also in ``env``), needs,
checkout first, artifacts through upload/download-artifact, caches through
actions/cache, ``if: always()``/``failure()`` for when, secrets from ``secrets.*``."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opsforge.pipelines.export.graph import (
    Group,
    after_script,
    groups,
    identifier,
    script,
    user_variables,
)
from opsforge.pipelines.export.yaml_text import dump
from opsforge.pipelines.model import ArtifactWhen, Pipeline, Service, When

__all__ = ["to_github"]

_IF = {
    When.ALWAYS: "always()",
    When.ON_FAILURE: "failure()",
    When.MANUAL: "github.event_name == 'workflow_dispatch'",
}
_ARTIFACT_IF = {ArtifactWhen.ALWAYS: "always()", ArtifactWhen.ON_FAILURE: "failure()"}


def _artifact_names(group: Group) -> list[str]:
    base = identifier(group.name)
    return [f"{base}-{i}" for i in range(len(group.jobs))] if group.is_matrix else [base]


def _common_dir(paths: tuple[str, ...]) -> str:
    """Where upload-artifact's least common ancestor of ``paths`` is, as a download
    path: what GitHub strips on upload is put back on download. A single path with a
    suffix is taken for a file (its directory is the ancestor)."""
    fixed: list[list[str]] = []
    for path in paths:
        parts: list[str] = []
        for part in Path(path.strip("/")).parts:
            if any(c in part for c in "*?[{"):
                fixed.append(parts)
                break
            parts.append(part)
        else:
            fixed.append(parts[:-1] if Path(path).suffix or len(paths) > 1 else parts)
    common: list[str] = []
    for items in zip(*fixed, strict=False):
        if len(set(items)) != 1:
            break
        common.append(items[0])
    return str(Path(*common)) if common else "."


def _services(
    job: str, services: Sequence[Service], warnings: list[str]
) -> dict[str, dict[str, Any]]:
    """``services:`` keyed by the name the job reaches each by (its alias, else one made
    from the image name)."""
    out: dict[str, dict[str, Any]] = {}
    for service in services:
        alias = (service.alias or "").replace(",", " ").split()
        key = alias[0] if alias else identifier(service.name.split("/")[-1].split(":")[0])
        entry: dict[str, Any] = {"image": service.name}
        if service.variables:
            entry["env"] = dict(service.variables)
        if service.options:
            entry["options"] = shlex.join(service.options)
        if service.command or service.entrypoint is not None:
            warnings.append(
                f"{job}: service {service.name}: GitHub services take no command or "
                "entrypoint; left out"
            )
        out[key] = entry
    return out


def _job(
    group: Group, by_name: dict[str, Group], pipeline: Pipeline, warnings: list[str]
) -> dict[str, Any]:
    job = group.first
    out: dict[str, Any] = {}
    if identifier(group.name) != group.name:
        out["name"] = group.name
    out["runs-on"] = "ubuntu-latest"
    if group.needs:
        out["needs"] = [identifier(n) for n in group.needs]
    if job.when in _IF:
        out["if"] = _IF[job.when]
        if job.when is When.MANUAL:
            warnings.append(f"{group.name}: a manual job runs on workflow_dispatch only")
    if job.image is not None:
        out["container"] = job.image.name
    if job.services:
        out["services"] = _services(group.name, job.services, warnings)
    if job.timeout is not None:
        out["timeout-minutes"] = max(1, round(job.timeout / 60))
    if job.allow_failure.allowed:
        out["continue-on-error"] = True
    if job.retry.max:
        warnings.append(f"{group.name}: GitHub Actions has no job retry; retry left out")
    if group.is_matrix:
        out["strategy"] = {"fail-fast": job.fail_fast, "matrix": {"include": group.cells}}
    plain, secret = user_variables(job)
    env: dict[str, str] = {k: v for k, v in plain.items() if k not in pipeline.variables}
    env.update({k: f"${{{{ secrets.{k} }}}}" for k in secret})
    env.update({k: f"${{{{ matrix.{k} }}}}" for k in group.axes})
    if env:
        out["env"] = env
    steps: list[dict[str, Any]] = [{"uses": "actions/checkout@v4"}]
    for need in group.needs:
        source = by_name[need]
        if source.first.artifacts is not None and source.first.artifacts.paths:
            target = _common_dir(source.first.artifacts.paths)
            steps += [
                {"uses": "actions/download-artifact@v4", "with": {"name": name, "path": target}}
                for name in _artifact_names(source)
            ]
    for index, cache in enumerate(job.cache):
        key = cache.key
        if cache.key_files:
            files = ", ".join(repr(f) for f in cache.key_files)
            key = f"{cache.key_prefix or 'cache'}-${{{{ hashFiles({files}) }}}}"
        steps.append(
            {
                "id": f"cache{index}",
                "uses": "actions/cache@v4",
                "with": {"path": "\n".join(cache.paths), "key": key},
            }
        )
    lines = script(job)
    if lines:
        steps.append({"run": "\n".join(lines)})
    if after := after_script(job):
        steps.append({"if": "always()", "run": "\n".join(after)})
    if job.artifacts is not None and (job.artifacts.paths or job.artifacts.reports):
        paths = [*job.artifacts.paths, *(p for ps in job.artifacts.reports.values() for p in ps)]
        name = (
            f"{identifier(group.name)}-${{{{ strategy.job-index }}}}"
            if group.is_matrix
            else identifier(group.name)
        )
        upload: dict[str, Any] = {
            "uses": "actions/upload-artifact@v4",
            "with": {"name": name, "path": "\n".join(paths)},
        }
        if job.artifacts.when in _ARTIFACT_IF:
            upload = {"if": _ARTIFACT_IF[job.artifacts.when], **upload}
        steps.append(upload)
    for step in (*job.before_steps, *job.steps):
        if step.kind not in ("shell", "checkout"):
            warnings.append(f"{group.name}: step {step.kind} has no GitHub equivalent; left out")
    out["steps"] = steps
    return out


def to_github(pipeline: Pipeline, warnings: list[str]) -> str:
    all_groups = groups(pipeline)
    by_name = {g.name: g for g in all_groups}
    data: dict[str, Any] = {"name": pipeline.name, "on": {"push": None, "workflow_dispatch": None}}
    plain, secret = user_variables(pipeline)
    env = dict(plain)
    env.update({k: f"${{{{ secrets.{k} }}}}" for k in secret})
    if env:
        data["env"] = env
    ids = [identifier(g.name) for g in all_groups]
    if len(set(ids)) != len(ids):
        warnings.append("two jobs map to the same GitHub job id; rename one")
    data["jobs"] = {identifier(g.name): _job(g, by_name, pipeline, warnings) for g in all_groups}
    return dump(data, f"# written by opsforge pipeline export from {pipeline.source.path}\n")
