"""A pipeline as a CircleCI 2.1 config: one job per job (matrix axes as string
parameters, exported to the environment), one workflow with ``requires``, a matrix
as CircleCI's product with the missing cells excluded, manual jobs behind an approval
job, artifacts handed on through the workspace, caches with save/restore_cache."""

from __future__ import annotations

import itertools
from typing import Any

from opsforge.pipelines.export.graph import (
    Group,
    after_script,
    groups,
    identifier,
    script,
    service_extras,
    user_variables,
)
from opsforge.pipelines.export.yaml_text import dump
from opsforge.pipelines.model import Pipeline, Service, When

__all__ = ["to_circleci"]

DEFAULT_IMAGE = "cimg/base:current"


def _secondary(job: str, service: Service, warnings: list[str]) -> dict[str, Any]:
    """A service as a secondary ``docker:`` image (reached on localhost, or its name)."""
    entry: dict[str, Any] = {"image": service.name}
    alias = (service.alias or "").replace(",", " ").split()
    if alias:
        entry["name"] = alias[0]
    entry.update(service_extras(service, "environment"))
    if service.options:
        warnings.append(f"{job}: service {service.name} options have no CircleCI key; left out")
    return entry


def _job(
    group: Group, by_name: dict[str, Group], pipeline: Pipeline, warnings: list[str]
) -> dict[str, Any]:
    job = group.first
    out: dict[str, Any] = {
        "docker": [
            {"image": job.image.name if job.image else DEFAULT_IMAGE},
            *(_secondary(group.name, s, warnings) for s in job.services),
        ]
    }
    if group.is_matrix:
        out["parameters"] = {axis: {"type": "string"} for axis in group.axes}
    plain, secret = user_variables(job)
    env = {
        **{k: v for k, v in plain.items()},
        **{axis: f"<< parameters.{axis} >>" for axis in group.axes},
    }
    if env:
        out["environment"] = env
    for name in secret:
        warnings.append(f"{group.name}: secret {name} must come from a CircleCI context")
    steps: list[Any] = ["checkout"]
    if any(by_name[n].first.artifacts is not None for n in group.needs):
        steps.append({"attach_workspace": {"at": "."}})
    keys = [
        cache.key
        if not cache.key_files
        else (cache.key_prefix or "cache")
        + "-"
        + "-".join(f'{{{{ checksum "{f}" }}}}' for f in cache.key_files)
        for cache in job.cache
    ]
    steps += [{"restore_cache": {"keys": [key]}} for key in keys]
    if lines := script(job):
        steps.append({"run": {"name": "script", "command": "\n".join(lines)}})
    if after := after_script(job):
        steps.append(
            {"run": {"name": "after_script", "command": "\n".join(after), "when": "always"}}
        )
    steps += [
        {"save_cache": {"key": key, "paths": list(cache.paths)}}
        for key, cache in zip(keys, job.cache, strict=True)
    ]
    if job.artifacts is not None:
        if job.artifacts.paths:
            steps.append(
                {"persist_to_workspace": {"root": ".", "paths": list(job.artifacts.paths)}}
            )
            steps += [{"store_artifacts": {"path": p}} for p in job.artifacts.paths if "*" not in p]
        for path in job.artifacts.reports.get("junit", ()):
            steps.append({"store_test_results": {"path": path}})
    if job.timeout is not None or job.retry.max or job.allow_failure.allowed:
        warnings.append(
            f"{group.name}: CircleCI has no job timeout, retry or allow_failure; left out"
        )
    if job.when in (When.ALWAYS, When.ON_FAILURE):
        warnings.append(
            f"{group.name}: CircleCI jobs run only after their requires succeed; "
            f"when: {job.when.value} is lost"
        )
    out["steps"] = steps
    return out


def _use(group: Group) -> dict[str, Any] | str:
    conf: dict[str, Any] = {}
    requires = [identifier(n) for n in group.needs]
    if group.first.when is When.MANUAL:
        requires.append(f"approve-{identifier(group.name)}")
    if requires:
        conf["requires"] = requires
    if group.is_matrix:
        axes = group.axes
        values = {a: list(dict.fromkeys(c[a] for c in group.cells)) for a in axes}
        present = {tuple(c[a] for a in axes) for c in group.cells}
        matrix: dict[str, Any] = {"parameters": values}
        missing = [
            dict(zip(axes, combo, strict=True))
            for combo in itertools.product(*values.values())
            if combo not in present
        ]
        if missing:
            matrix["exclude"] = missing
        conf["matrix"] = matrix
    return {identifier(group.name): conf} if conf else identifier(group.name)


def to_circleci(pipeline: Pipeline, warnings: list[str]) -> str:
    all_groups = groups(pipeline)
    by_name = {g.name: g for g in all_groups}
    plain, secret = user_variables(pipeline)
    warnings.extend(f"secret {n} must come from a CircleCI context" for n in secret)
    jobs: dict[str, Any] = {}
    uses: list[Any] = []
    for group in all_groups:
        job = _job(group, by_name, pipeline, warnings)
        if plain:
            job["environment"] = {**plain, **job.get("environment", {})}
            job = {k: job[k] for k in ("docker", "parameters", "environment", "steps") if k in job}
        jobs[identifier(group.name)] = job
        if group.first.when is When.MANUAL:
            uses.append(
                {
                    f"approve-{identifier(group.name)}": {
                        "type": "approval",
                        **(
                            {"requires": [identifier(n) for n in group.needs]}
                            if group.needs
                            else {}
                        ),
                    }
                }
            )
        uses.append(_use(group))
    data = {
        "version": 2.1,
        "jobs": jobs,
        "workflows": {
            identifier(pipeline.name.rsplit("/", 1)[-1].split(".")[0]) or "main": {"jobs": uses}
        },
    }
    return dump(data, f"# written by opsforge pipeline export from {pipeline.source.path}\n")
