"""The merged GitLab configuration: global keywords, ``extends``, ``default:``, hidden jobs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.gitlab.includes import deep_merge
from opsforge.pipelines.gitlab.yamlsource import YMap

__all__ = ["GLOBAL_KEYS", "JOB_KEYS", "job_definitions", "with_defaults"]

GLOBAL_KEYS = {
    "stages", "variables", "default", "workflow", "include", "image", "services",
    "before_script", "after_script", "cache", "spec", "pages",
}  # fmt: skip
JOB_KEYS = {
    "script", "before_script", "after_script", "stage", "image", "services", "variables",
    "needs", "dependencies", "rules", "only", "except", "when", "allow_failure", "retry",
    "timeout", "artifacts", "cache", "parallel", "trigger", "resource_group", "extends",
    "tags", "environment", "interruptible", "coverage", "release", "inherit", "start_in",
    "hooks", "id_tokens", "secrets", "identity", "dast_configuration", "manual_confirmation",
    "run", "pages", "description",
}  # fmt: skip
DEFAULT_KEYS = {
    "after_script", "artifacts", "before_script", "cache", "hooks", "id_tokens", "image",
    "interruptible", "retry", "services", "tags", "timeout",
}  # fmt: skip
MAX_EXTENDS_DEPTH = 11


def _resolve_extends(name: str, config: Mapping[str, Any], seen: tuple[str, ...]) -> YMap:
    job = config[name]
    if not isinstance(job, YMap):
        raise PipelineError(f"job {name!r} must be a mapping", path=getattr(config, "path", None))
    parents = job.get("extends")
    if parents is None:
        return job
    if len(seen) > MAX_EXTENDS_DEPTH:
        raise PipelineError(
            f"extends nested deeper than {MAX_EXTENDS_DEPTH} levels",
            path=job.path,
            line=job.line,
            job=name,
        )
    merged: Any = YMap()
    for parent in [parents] if isinstance(parents, str) else list(parents):
        if parent in seen:
            chain = " -> ".join([*seen, parent])
            raise PipelineError(
                f"extends forms a loop: {chain}",
                path=job.path,
                line=job.line_of("extends"),
                job=name,
            )
        if parent not in config:
            raise PipelineError(
                f"extends {parent!r}, which is not defined",
                path=job.path,
                line=job.line_of("extends"),
                job=name,
            )
        merged = deep_merge(merged, _resolve_extends(parent, config, (*seen, parent)))
    own = YMap({k: v for k, v in job.items() if k != "extends"})
    own.path, own.line, own.key_lines = job.path, job.line, job.key_lines
    result = deep_merge(merged, own)
    result.path, result.line = job.path, job.line
    return result  # type: ignore[no-any-return]


def job_definitions(config: YMap, extra_globals: frozenset[str] = frozenset()) -> dict[str, YMap]:
    """Every visible job, with ``extends`` resolved, in file order."""
    jobs: dict[str, YMap] = {}
    for name, value in config.items():
        if name in GLOBAL_KEYS or name in extra_globals or name.startswith("."):
            continue
        if not isinstance(value, YMap):
            raise PipelineError(
                f"{name!r} is neither a known keyword nor a job (a job is a mapping with a script)",
                path=config.path,
                line=config.line_of(name),
            )
        job = _resolve_extends(name, config, (name,))
        job.line = config.line_of(name)  # the job's own line: where its name is written
        jobs[name] = job
    return jobs


def with_defaults(job: YMap, default: Mapping[str, Any], name: str) -> YMap:
    """The job with ``default:`` keys it does not set itself (``inherit:default`` honoured)."""
    inherit = job.get("inherit") or {}
    allowed: Any = inherit.get("default", True) if isinstance(inherit, Mapping) else True
    if allowed is False or not default:
        return job
    keys = set(default) if allowed is True else set(allowed)
    merged = YMap(job)
    merged.path, merged.line, merged.key_lines = job.path, job.line, job.key_lines
    for key in keys & set(default):
        if key not in DEFAULT_KEYS:
            raise PipelineError(
                f"default: {key!r} cannot have a default",
                path=getattr(default, "path", None),
                line=default.line_of(key) if isinstance(default, YMap) else None,
            )
        if key not in job:
            merged[key] = default[key]
    return merged
