"""``on:``: which events start a workflow, and the branch/tag filters of push and
pull_request, matched the way GitHub does (``*`` stops at ``/``, ``**`` does not,
``!pattern`` excludes, the last matching pattern wins)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from opsforge.pipelines.github.context import GitState
from opsforge.pipelines.github.expr_values import to_string

__all__ = ["filter_reason", "triggers"]


def triggers(on: Any) -> dict[str, Any]:
    """``on:`` as event name -> its settings (None when it has none)."""
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {to_string(event): None for event in on}
    if isinstance(on, Mapping):
        return {str(event): spec for event, spec in on.items()}
    return {}


def _pattern(glob: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(glob):
        ch = glob[i]
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append(".")
        elif ch == "+":
            out.append("+")
        elif ch == "[":
            end = glob.find("]", i)
            if end > i:
                out.append(glob[i : end + 1])
                i = end + 1
                continue
            out.append(re.escape(ch))
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z")


def _matches(name: str, patterns: list[str]) -> bool:
    matched = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        if _pattern(pattern[1:] if negate else pattern).match(name):
            matched = not negate
    return matched


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [to_string(v) for v in value] if isinstance(value, list) else [to_string(value)]


def filter_reason(event: str, spec: Any, git: GitState) -> str | None:
    """Why the ``on.<event>`` filters leave this ref out, or None when it runs."""
    if not isinstance(spec, Mapping):
        return None
    kind = "tags" if git.ref_type == "tag" else "branches"
    other = "branches" if kind == "tags" else "tags"
    include, exclude = spec.get(kind), spec.get(f"{kind}-ignore")
    if include is None and exclude is None:
        if (spec.get(other) is not None or spec.get(f"{other}-ignore") is not None) and (
            event == "push"
        ):
            return f"on.{event} filters only {other}, and {git.ref} is a {git.ref_type}"
        return None
    if include is not None and not _matches(git.ref_name, _as_list(include)):
        return f"{git.ref_name!r} does not match on.{event}.{kind} {_as_list(include)}"
    if exclude is not None and _matches(git.ref_name, _as_list(exclude)):
        return f"{git.ref_name!r} matches on.{event}.{kind}-ignore {_as_list(exclude)}"
    return None
