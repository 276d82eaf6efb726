"""Version comparison for the ``version`` test (and the ``version_compare`` alias).

Types, as in Ansible: ``loose`` (default: numbers and words split on dots and
boundaries; a number against a word cannot be compared), ``strict``
(``N.N[.N][{a|b}N]``), ``semver`` (``N.N.N[-pre][+build]``) and ``semantic`` (semver
that also accepts ``N`` and ``N.N``).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from opsforge.templating._locate import PluginError

__all__ = ["compare_versions"]

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "=": operator.eq, "eq": operator.eq,
    "<": operator.lt, "lt": operator.lt,
    "<=": operator.le, "le": operator.le,
    ">": operator.gt, "gt": operator.gt,
    ">=": operator.ge, "ge": operator.ge,
    "!=": operator.ne, "<>": operator.ne, "ne": operator.ne,
}  # fmt: skip

_LOOSE_PART = re.compile(r"(\d+|[a-z]+|\.)", re.IGNORECASE)
_STRICT = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:([ab])(\d+))?$")
_SEMVER = re.compile(
    r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$"
)


def _loose(text: str) -> list[int | str]:
    parts: list[int | str] = []
    for part in _LOOSE_PART.split(text):
        if part and part != ".":
            parts.append(int(part) if part.isdigit() else part)
    return parts


def _loose_cmp(a: str, b: str) -> int:
    left, right = _loose(a), _loose(b)
    for x, y in zip(left, right, strict=False):
        if x == y:
            continue
        if type(x) is not type(y):
            raise PluginError(
                f"cannot compare {a!r} with {b!r} as loose versions ({x!r} against {y!r}); "
                "try version_type='semver'"
            )
        return -1 if x < y else 1  # type: ignore[operator]
    return (len(left) > len(right)) - (len(left) < len(right))


def _strict_key(text: str) -> tuple[tuple[int, int, int], tuple[int, str, int]]:
    match = _STRICT.match(text)
    if match is None:
        raise PluginError(f"invalid strict version {text!r} (expected N.N[.N][a|bN])")
    major, minor, patch, pre, pre_number = match.groups()
    release = (int(major), int(minor), int(patch or 0))
    prerelease = (0, pre, int(pre_number)) if pre else (1, "", 0)
    return release, prerelease


def _semver_key(text: str, *, loose: bool) -> tuple[tuple[int, int, int], tuple[Any, ...]]:
    candidate = text
    if loose and re.fullmatch(r"\d+(\.\d+)?", text):
        candidate = text + ".0" * (2 - text.count("."))
    match = _SEMVER.match(candidate)
    if match is None:
        raise PluginError(f"invalid semantic version {text!r} (expected N.N.N[-pre][+build])")
    release = (int(match.group(1)), int(match.group(2)), int(match.group(3)))
    pre = match.group(4)
    if pre is None:
        return release, (1,)
    idents = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return release, (0, idents)


def _cmp(a: Any, b: Any) -> int:
    return int((a > b) - (a < b))


def compare_versions(
    value: Any,
    version: Any,
    op: str = "eq",
    strict: bool | None = None,
    version_type: str | None = None,
) -> bool:
    if op not in _OPERATORS:
        raise PluginError(f"invalid version operator {op!r} (use one of {', '.join(_OPERATORS)})")
    if strict and version_type:
        raise PluginError("give either strict or version_type, not both")
    kind = "strict" if strict else (version_type or "loose")
    left, right = str(value), str(version)
    if not left or not right:
        raise PluginError("version comparison needs two non-empty versions")
    if kind == "loose":
        order = _loose_cmp(left, right)
    elif kind == "strict":
        order = _cmp(_strict_key(left), _strict_key(right))
    elif kind in ("semver", "semantic"):
        loose = kind == "semantic"
        order = _cmp(_semver_key(left, loose=loose), _semver_key(right, loose=loose))
    else:
        raise PluginError(f"unsupported version_type {kind!r} (loose, strict, semver, semantic)")
    return _OPERATORS[op](order, 0)
