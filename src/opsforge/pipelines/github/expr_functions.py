"""The built-in functions other than the status checks (those need the job's state)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opsforge.pipelines.github.expr_values import loose_equal, to_json, to_string

__all__ = ["FunctionFailed", "call", "hash_files"]


class FunctionFailed(ValueError):
    """A function could not produce a value (bad JSON, a bad format string)."""


def _contains(search: Any, item: Any) -> bool:
    if isinstance(search, list):
        return any(loose_equal(element, item) for element in search)
    return to_string(item).upper() in to_string(search).upper()


def _starts_with(text: Any, prefix: Any) -> bool:
    return to_string(text).upper().startswith(to_string(prefix).upper())


def _ends_with(text: Any, suffix: Any) -> bool:
    return to_string(text).upper().endswith(to_string(suffix).upper())


def _format(template: Any, *args: Any) -> str:
    fmt, out, i = to_string(template), [], 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "{":
            if fmt.startswith("{{", i):
                out.append("{")
                i += 2
                continue
            end = fmt.find("}", i)
            number = fmt[i + 1 : end] if end > 0 else ""
            if not number.isdigit():
                raise FunctionFailed(f"format(): invalid format string {fmt!r}")
            index = int(number)
            if index >= len(args):
                raise FunctionFailed(
                    f"format(): {{{index}}} needs {index + 1} argument(s) after the format "
                    f"string, got {len(args)}"
                )
            out.append(to_string(args[index]))
            i = end + 1
        elif ch == "}":
            if not fmt.startswith("}}", i):
                raise FunctionFailed(f"format(): invalid format string {fmt!r} (lone '}}')")
            out.append("}")
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _join(items: Any, separator: Any = ",") -> str:
    sep = to_string(separator)
    if isinstance(items, list):
        return sep.join(to_string(item) for item in items)
    return to_string(items)


def _from_json(text: Any) -> Any:
    source = to_string(text)
    if not source.strip():
        raise FunctionFailed("fromJSON(): empty input")
    try:
        return json.loads(source)
    except json.JSONDecodeError as exc:
        raise FunctionFailed(f"fromJSON(): invalid JSON {source[:60]!r}: {exc.msg}") from None


def hash_files(workspace: Path, patterns: Sequence[str]) -> str:
    """``hashFiles``: SHA-256 over each matched file's SHA-256 (files in path order),
    relative to the workspace; ``!pattern`` excludes; '' when nothing matches."""
    matched: set[Path] = set()
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern[1:] if negate else pattern
        found = {p for p in workspace.glob(glob) if p.is_file()}
        if glob.endswith("**"):
            found |= {p for p in workspace.glob(glob + "/*") if p.is_file()}
        matched = matched - found if negate else matched | found
    if not matched:
        return ""
    total = hashlib.sha256()
    for path in sorted(matched):
        total.update(hashlib.sha256(path.read_bytes()).digest())
    return total.hexdigest()


_PURE: dict[str, Callable[..., Any]] = {
    "contains": _contains,
    "startswith": _starts_with,
    "endswith": _ends_with,
    "format": _format,
    "join": _join,
    "tojson": to_json,
    "fromjson": _from_json,
}


def call(name: str, args: Sequence[Any], workspace: Path) -> Any:
    """Call a pure built-in (lower-case ``name``) with evaluated ``args``."""
    if name == "hashfiles":
        return hash_files(workspace, [to_string(a) for a in args])
    return _PURE[name](*args)
