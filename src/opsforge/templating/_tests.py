"""Ansible's Jinja2 tests: task results, versions, regexes, truthiness, sets and
controller-side paths. Jinja2's own tests (defined, none, string, ...) are kept."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from opsforge.templating._filters_data import to_bool
from opsforge.templating._locate import PluginError
from opsforge.templating._versions import compare_versions

__all__ = ["TESTS"]


def _result(value: Any, test: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PluginError(f"the '{test}' test expects a dictionary (a registered task result)")
    return value


def failed(value: Any) -> bool:
    return bool(_result(value, "failed").get("failed", False))


def succeeded(value: Any) -> bool:
    return not bool(_result(value, "succeeded").get("failed", False))


def changed(value: Any) -> bool:
    result = _result(value, "changed")
    items = result.get("results")
    if isinstance(items, list) and items and isinstance(items[0], Mapping):
        return any(bool(item.get("changed", False)) for item in items)
    return bool(result.get("changed", False))


def skipped(value: Any) -> bool:
    return bool(_result(value, "skipped").get("skipped", False))


def unreachable(value: Any) -> bool:
    return bool(_result(value, "unreachable").get("unreachable", False))


def version(
    value: Any,
    version: Any = "",
    operator: str = "eq",
    strict: bool | None = None,
    version_type: str | None = None,
) -> bool:
    return compare_versions(value, version, operator, strict, version_type)


def regex(
    value: Any,
    pattern: str = "",
    ignorecase: bool = False,
    multiline: bool = False,
    match_type: str = "search",
) -> bool:
    if match_type not in ("search", "match", "fullmatch"):
        raise PluginError(f"match_type must be search, match or fullmatch, not {match_type!r}")
    flags = (re.IGNORECASE if ignorecase else 0) | (re.MULTILINE if multiline else 0)
    method = getattr(re.compile(pattern, flags), match_type)
    return method(str(value)) is not None


def match(value: Any, pattern: str = "", ignorecase: bool = False, multiline: bool = False) -> bool:
    return regex(value, pattern, ignorecase, multiline, "match")


def search(
    value: Any, pattern: str = "", ignorecase: bool = False, multiline: bool = False
) -> bool:
    return regex(value, pattern, ignorecase, multiline, "search")


def truthy(value: Any, convert_bool: bool = False) -> bool:
    return to_bool(value) if convert_bool else bool(value)


def falsy(value: Any, convert_bool: bool = False) -> bool:
    return not truthy(value, convert_bool)


def subset(a: Any, b: Any) -> bool:
    other = list(b)
    return all(item in other for item in a)


def superset(a: Any, b: Any) -> bool:
    return subset(b, a)


def contains(seq: Any, value: Any) -> bool:
    return value in seq


def _path(value: Any) -> str:
    return os.path.expanduser(str(value))


TESTS: dict[str, Callable[..., bool]] = {
    "failed": failed,
    "failure": failed,
    "succeeded": succeeded,
    "success": succeeded,
    "successful": succeeded,
    "changed": changed,
    "change": changed,
    "skipped": skipped,
    "skip": skipped,
    "unreachable": unreachable,
    "version": version,
    "version_compare": version,
    "match": match,
    "search": search,
    "regex": regex,
    "truthy": truthy,
    "falsy": falsy,
    "subset": subset,
    "issubset": subset,
    "superset": superset,
    "issuperset": superset,
    "contains": contains,
    "any": lambda value: any(value),
    "all": lambda value: all(value),
    "file": lambda value: os.path.isfile(_path(value)),
    "directory": lambda value: os.path.isdir(_path(value)),
    "link": lambda value: os.path.islink(_path(value)),
    "exists": lambda value: os.path.exists(_path(value)),
    "link_exists": lambda value: os.path.lexists(_path(value)),
    "abs": lambda value: os.path.isabs(str(value)),
    "mount": lambda value: os.path.ismount(_path(value)),
    "same_file": lambda a, b: os.path.samefile(_path(a), _path(b)),
}
