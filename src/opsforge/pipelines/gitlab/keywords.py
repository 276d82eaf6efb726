"""Parsing single GitLab job keywords into model values (durations, retry, artifacts, ...)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.model import (
    AllowFailure,
    Artifacts,
    ArtifactWhen,
    Cache,
    CachePolicy,
    Image,
    Retry,
    Service,
    SourceLocation,
    Variable,
)

__all__ = [
    "parse_allow_failure",
    "parse_artifacts",
    "parse_cache",
    "parse_duration",
    "parse_image",
    "parse_retry",
    "parse_services",
    "parse_variables",
    "script_lines",
    "string_list",
]

_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")
RETRY_WHEN = {
    "always", "unknown_failure", "script_failure", "api_failure", "stuck_or_timeout_failure",
    "runner_system_failure", "runner_unsupported", "stale_schedule", "job_execution_timeout",
    "archived_failure", "unmet_prerequisites", "scheduler_failure", "data_integrity_failure",
}  # fmt: skip


class Where:
    """Where a keyword was written, to build errors."""

    def __init__(self, path: str, line: int | None, job: str | None) -> None:
        self.path, self.line, self.job = path, line, job

    def error(self, message: str) -> PipelineError:
        return PipelineError(message, path=self.path, line=self.line, job=self.job)

    @property
    def location(self) -> SourceLocation:
        return SourceLocation(self.path, self.line)


def parse_duration(value: Any, where: Where) -> float:
    """``"1h 30m"``, ``"3 minutes"``, ``"90"`` (seconds), ``90`` → seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().lower().replace(",", " ").replace(" and ", " ")
    total = 0.0
    pos = 0
    for match in _PART.finditer(text):
        if text[pos : match.start()].strip():
            break
        number, unit = match.groups()
        if unit and unit not in _UNITS:
            raise where.error(f"timeout: unknown unit {unit!r} in {value!r}")
        total += float(number) * _UNITS.get(unit or "s", 1)
        pos = match.end()
    if text[pos:].strip() or total <= 0:
        raise where.error(f"not a duration: {value!r} (e.g. '1h 30m', '10 minutes')")
    return total


def script_lines(value: Any, where: Where, key: str) -> list[str]:
    """A script keyword as a flat list of commands (nested lists flattened)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise where.error(f"{key} must be a string or a list of strings")
    lines: list[str] = []
    for item in value:
        if isinstance(item, list):
            lines.extend(script_lines(item, where, key))
        elif isinstance(item, str | int | float) and not isinstance(item, bool):
            lines.append(str(item))
        else:
            raise where.error(f"{key} entries must be strings, not {type(item).__name__}")
    return lines


def parse_variables(value: Any, where: Where) -> dict[str, Variable]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise where.error("variables must be a mapping of NAME: value")
    out: dict[str, Variable] = {}
    for name, raw in value.items():
        line = value.line_of(name) if hasattr(value, "line_of") else where.line
        src = SourceLocation(where.path, line)
        if isinstance(raw, Mapping):
            expand_ = raw.get("expand", True)
            text = raw.get("value", "")
            out[name] = Variable("" if text is None else _scalar(text), raw=not expand_, source=src)
        elif raw is None or isinstance(raw, str | int | float | bool):
            out[name] = Variable("" if raw is None else _scalar(raw), source=src)
        else:
            raise PipelineError(
                f"variable {name} must be a string", path=where.path, line=line, job=where.job
            )
    return out


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_retry(value: Any, where: Where) -> Retry:
    if value is None:
        return Retry()
    if isinstance(value, int) and not isinstance(value, bool):
        count, when, codes = value, [], []
    elif isinstance(value, Mapping):
        count = value.get("max", 0)
        when = value.get("when", [])
        codes = value.get("exit_codes", [])
        when = [when] if isinstance(when, str) else list(when)
        codes = [codes] if isinstance(codes, int) else list(codes)
        for item in when:
            if item not in RETRY_WHEN:
                raise where.error(f"retry: unknown when {item!r}")
    else:
        raise where.error("retry must be a number (0-2) or a mapping with max/when/exit_codes")
    if not isinstance(count, int) or not 0 <= count <= 2:
        raise where.error(f"retry max must be 0, 1 or 2, not {count!r}")
    return Retry(max=count, when=tuple(when), exit_codes=tuple(int(c) for c in codes))


def parse_allow_failure(value: Any, where: Where, default: bool) -> AllowFailure:
    if value is None:
        return AllowFailure(default)
    if isinstance(value, bool):
        return AllowFailure(value)
    if isinstance(value, Mapping) and "exit_codes" in value:
        codes = value["exit_codes"]
        codes = [codes] if isinstance(codes, int) else list(codes)
        return AllowFailure(True, tuple(int(c) for c in codes))
    raise where.error("allow_failure must be true, false or {exit_codes: [...]}")


def _when(value: Any, where: Where, key: str) -> ArtifactWhen:
    try:
        return ArtifactWhen(value or "on_success")
    except ValueError:
        raise where.error(
            f"{key}: when must be on_success, on_failure or always, not {value!r}"
        ) from None


def string_list(value: Any) -> tuple[str, ...]:
    """A string or a list of values as a tuple of strings (None: empty)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def parse_artifacts(
    value: Any, where: Where, warnings: list[tuple[str, SourceLocation | None]]
) -> Artifacts | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise where.error("artifacts must be a mapping")
    reports: dict[str, tuple[str, ...]] = {}
    for kind, globs in (value.get("reports") or {}).items():
        if kind in ("junit", "dotenv"):
            reports[kind] = string_list(globs)
        else:
            warnings.append(
                (
                    f"job {where.job}: artifacts:reports:{kind} is kept as a plain artifact",
                    where.location,
                )
            )
            reports[kind] = string_list(globs)
    return Artifacts(
        paths=string_list(value.get("paths")),
        exclude=string_list(value.get("exclude")),
        when=_when(value.get("when"), where, "artifacts"),
        reports=reports,
        name=str(value["name"]) if value.get("name") else None,
        untracked=bool(value.get("untracked", False)),
    )


def parse_cache(value: Any, where: Where) -> tuple[Cache, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    caches = []
    for item in items:
        if not isinstance(item, Mapping):
            raise where.error("cache must be a mapping or a list of mappings")
        key = item.get("key", "default")
        key_files: tuple[str, ...] = ()
        prefix = ""
        if isinstance(key, Mapping):
            key_files = string_list(key.get("files"))
            prefix = str(key.get("prefix") or "")
            if not key_files:
                raise where.error("cache key: files needs at least one file")
            key = "default"
        try:
            policy = CachePolicy(item.get("policy", "pull-push"))
        except ValueError:
            raise where.error(
                f"cache policy must be pull, push or pull-push, not {item.get('policy')!r}"
            ) from None
        caches.append(
            Cache(
                paths=string_list(item.get("paths")),
                key=str(key),
                key_files=key_files,
                key_prefix=prefix,
                policy=policy,
                when=_when(item.get("when"), where, "cache"),
                fallback_keys=string_list(item.get("fallback_keys")),
                untracked=bool(item.get("untracked", False)),
            )
        )
    return tuple(caches)


def parse_image(value: Any, where: Where) -> Image | None:
    if value is None:
        return None
    if isinstance(value, str):
        return Image(value)
    if isinstance(value, Mapping) and "name" in value:
        entry = value.get("entrypoint")
        return Image(
            str(value["name"]),
            entrypoint=tuple(entry) if isinstance(entry, list) else None,
            pull_policy=string_list(value.get("pull_policy")),
        )
    raise where.error("image must be a name or a mapping with name")


def parse_services(value: Any, where: Where) -> tuple[Service, ...]:
    if value is None:
        return ()
    out = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            out.append(Service(item))
        elif isinstance(item, Mapping) and "name" in item:
            for key in ("command", "entrypoint"):
                if item.get(key) is not None and not isinstance(item[key], list):
                    raise where.error(f"services: {key} must be a list of strings")
            entry = item.get("entrypoint")
            variables = parse_variables(item.get("variables"), where)
            out.append(
                Service(
                    str(item["name"]),
                    alias=str(item["alias"]) if item.get("alias") else None,
                    command=tuple(str(c) for c in item.get("command") or ()),
                    entrypoint=None if entry is None else tuple(str(e) for e in entry),
                    variables={k: v.reveal() for k, v in variables.items()},
                )
            )
        else:
            raise where.error("services entries must be names or mappings with name")
    return tuple(out)
