"""A pipeline as ``.gitlab-ci.yml``: stages, needs, variables, scripts, matrix cells as
``parallel: matrix`` entries, artifacts/reports, cache, services, timeout, retry,
allow_failure, when. Secret variables are left to GitLab's masked CI/CD variables (named
in a warning)."""

from __future__ import annotations

from typing import Any

from opsforge.pipelines.export.graph import (
    Group,
    after_script,
    effective_needs,
    groups,
    script,
    service_extras,
    user_variables,
)
from opsforge.pipelines.export.yaml_text import dump
from opsforge.pipelines.model import ArtifactWhen, CachePolicy, Pipeline, Service, When

__all__ = ["to_gitlab"]


def _duration(seconds: float) -> str:
    return f"{int(seconds)} seconds" if seconds >= 1 else "1 seconds"


def _job(group: Group, pipeline: Pipeline, warnings: list[str]) -> dict[str, Any]:
    job = group.first
    out: dict[str, Any] = {"stage": job.stage}
    if job.image is not None:
        out["image"] = job.image.name
    if job.services:
        out["services"] = [_service(group.name, s, warnings) for s in job.services]
    if job.needs is not None:
        out["needs"] = list(
            dict.fromkeys(n for cell in group.jobs for n in effective_needs(pipeline)[cell.name])
        )
    plain, secret = user_variables(job)
    own = {
        k: v
        for k, v in plain.items()
        if pipeline.variables.get(k) is None or pipeline.variables[k].reveal() != v
    }
    if own:
        out["variables"] = own
    for name in secret:
        warnings.append(f"{group.name}: secret {name} must be a masked CI/CD variable in GitLab")
    if group.is_matrix:
        out["parallel"] = {"matrix": [{k: [v] for k, v in cell.items()} for cell in group.cells]}
    out["script"] = script(job) or [":"]
    if after := after_script(job):
        out["after_script"] = after
    if job.when is not When.ON_SUCCESS:
        out["when"] = {When.DELAYED: "on_success"}.get(job.when, job.when.value)
    if job.allow_failure.allowed and job.when is not When.MANUAL:
        out["allow_failure"] = (
            {"exit_codes": list(job.allow_failure.exit_codes)}
            if job.allow_failure.exit_codes
            else True
        )
    if job.timeout is not None:
        out["timeout"] = _duration(job.timeout)
    if job.retry.max:
        out["retry"] = job.retry.max
    if job.artifacts is not None:
        art: dict[str, Any] = {}
        if job.artifacts.paths:
            art["paths"] = list(job.artifacts.paths)
        if job.artifacts.exclude:
            art["exclude"] = list(job.artifacts.exclude)
        if job.artifacts.when is not ArtifactWhen.ON_SUCCESS:
            art["when"] = job.artifacts.when.value
        if job.artifacts.reports:
            art["reports"] = {k: list(v) for k, v in job.artifacts.reports.items()}
        out["artifacts"] = art
    if job.cache:
        out["cache"] = [_cache(c) for c in job.cache]
    for step in (*job.before_steps, *job.steps):
        if step.kind != "shell":
            warnings.append(f"{group.name}: step {step.kind} has no GitLab keyword; left out")
    return out


def _service(job: str, service: Service, warnings: list[str]) -> Any:
    entry: dict[str, Any] = {"name": service.name}
    if service.alias:
        entry["alias"] = service.alias
    entry.update(service_extras(service, "variables"))
    if service.options:
        warnings.append(f"{job}: service {service.name} options have no GitLab keyword; left out")
    return entry if len(entry) > 1 else service.name


def _cache(cache: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if cache.key_files:
        out["key"] = {"files": list(cache.key_files)}
        if cache.key_prefix:
            out["key"]["prefix"] = cache.key_prefix
    else:
        out["key"] = cache.key
    out["paths"] = list(cache.paths)
    if cache.policy is not CachePolicy.PULL_PUSH:
        out["policy"] = cache.policy.value
    return out


def to_gitlab(pipeline: Pipeline, warnings: list[str]) -> str:
    used = [s for s in pipeline.stages if any(j.stage == s for j in pipeline.jobs)]
    data: dict[str, Any] = {"stages": used or ["test"]}
    plain, secret = user_variables(pipeline)
    if plain:
        data["variables"] = plain
    warnings.extend(f"secret {n} must be a masked CI/CD variable in GitLab" for n in secret)
    for group in groups(pipeline):
        data[group.name] = _job(group, pipeline, warnings)
    return dump(data, f"# written by opsforge pipeline export from {pipeline.source.path}\n")
