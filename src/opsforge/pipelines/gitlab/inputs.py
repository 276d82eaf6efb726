"""GitLab CI/CD inputs: ``spec:inputs`` in a file's header document.

A file of two YAML documents whose first holds ``spec:`` declares inputs; their values
come from the ``inputs:`` of the ``include:`` that loads it or, for the main
``.gitlab-ci.yml``, from ``--input NAME=VALUE`` (GitLab's pipeline inputs). Every
``$[[ inputs.NAME ]]`` in the second document is replaced by the value before the YAML
is parsed.

A declared input may have ``default`` (without one it is required), ``type`` (``string``,
the default, ``number``, ``boolean`` or ``array``), ``options`` (the values allowed) and
``regex`` (a value must match it); ``description`` is for people. A reference may pass
the value through up to three functions: ``$[[ inputs.x | expand_vars | truncate(0,8) ]]``
(``expand_vars``: ``$VAR`` from the predefined variables and ``--var``; ``posix_escape``:
safe as one shell word; ``truncate(offset,length)``). A value of the wrong
type, not among the options or not matching, an undeclared input and a required one left
out are errors naming the file and the line of the declaration, before anything runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.variables import expand

__all__ = ["MAX_FUNCTIONS", "interpolate", "posix_escape"]

_REFERENCE = re.compile(
    r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)((?:\s*\|\s*[A-Za-z_]+(?:\([^)]*\))?)*)\s*\]\]"
)
_FUNCTION = re.compile(r"\|\s*([A-Za-z_]+)(?:\(([^)]*)\))?")
MAX_FUNCTIONS = 3  # GitLab's limit per reference
_POSIX_SAFE = re.compile(r"[A-Za-z0-9_\-.,:+/@\n]")
_TYPES = ("string", "number", "boolean", "array")


def _line(mapping: Any, key: str) -> int | None:
    line_of = getattr(mapping, "line_of", None)
    return line_of(key) if callable(line_of) else None


def _from_text(text: str, kind: str) -> Any:
    """A ``--input`` value (always text) as the declared type; ValueError when it is not."""
    if kind == "number":
        try:
            return int(text)
        except ValueError:
            return float(text)
    if kind == "boolean":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise ValueError("not true or false")
    if kind == "array":
        value = yaml.safe_load(text) if text.strip() else []
        if not isinstance(value, list):
            raise ValueError("not a list such as [a, b]")
        return value
    return text


def _typed(value: Any, kind: str, from_cli: bool) -> Any:
    if from_cli and isinstance(value, str):
        return _from_text(value, kind)
    ok = {
        "string": isinstance(value, str),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "array": isinstance(value, list),
    }[kind]
    if not ok:
        raise ValueError(f"not a {kind}")
    return value


def _checked(name: str, spec: Any, value: Any, where: dict[str, Any], from_cli: bool) -> Any:
    spec = spec if isinstance(spec, Mapping) else {}
    kind = str(spec.get("type", "string"))
    if kind not in _TYPES:
        raise PipelineError(
            f"input {name!r}: type must be one of {', '.join(_TYPES)}, not {kind!r}", **where
        )
    try:
        typed = _typed(value, kind, from_cli)
    except ValueError as exc:
        raise PipelineError(f"input {name!r} ({kind}): {value!r} is {exc}", **where) from None
    options = spec.get("options")
    if isinstance(options, list) and typed not in options:
        allowed = ", ".join(str(o) for o in options)
        raise PipelineError(f"input {name!r} must be one of {allowed}, not {value!r}", **where)
    pattern = spec.get("regex")
    if pattern is not None and kind == "string":
        try:
            matched = re.search(str(pattern), typed) is not None
        except re.error as exc:
            raise PipelineError(f"input {name!r}: bad regex {pattern!r}: {exc}", **where) from None
        if not matched:
            raise PipelineError(f"input {name!r}: {value!r} does not match {pattern}", **where)
    return typed


def _text(value: Any) -> str:
    """How a value stands in the body: booleans as YAML spells them, arrays as flow lists."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value)
    return str(value)


def posix_escape(text: str) -> str:
    """``text`` safe as one POSIX shell word: a backslash before every character that is
    not a letter, digit or one of ``_-.,:+/@`` (GitLab's ``posix_escape``, after Ruby's
    ``Shellwords.escape``); an empty text is ``''``."""
    if not text:
        return "''"
    return "".join(
        "'\n'" if c == "\n" else (c if _POSIX_SAFE.fullmatch(c) else "\\" + c) for c in text
    )


def _apply(
    functions: str,
    text: str,
    variables: Mapping[str, str],
    where: dict[str, Any],
) -> str:
    """The interpolation functions of one reference (``| expand_vars | truncate(0,8)``)."""
    calls = _FUNCTION.findall(functions)
    if len(calls) > MAX_FUNCTIONS:
        raise PipelineError(f"at most {MAX_FUNCTIONS} functions per input reference", **where)
    for fn, raw_args in calls:
        args = [a.strip() for a in raw_args.split(",")] if raw_args.strip() else []
        if fn == "expand_vars" and not args:
            text = expand(text, variables, keep_unknown=True)
        elif fn == "posix_escape" and not args:
            text = posix_escape(text)
        elif fn == "truncate" and len(args) == 2 and all(a.isdigit() for a in args):
            offset, length = int(args[0]), int(args[1])
            text = text[offset : offset + length]
        else:
            known = "expand_vars, posix_escape, truncate(offset,length)"
            shown = f"{fn}({raw_args})" if raw_args else fn
            raise PipelineError(f"unknown input function {shown!r} (known: {known})", **where)
    return text


def interpolate(
    header: Any,
    body: str,
    given: Mapping[str, Any],
    name: str,
    *,
    from_cli: bool = False,
    variables: Mapping[str, str] | None = None,
    body_line: int = 1,
) -> str:
    """``body`` with ``$[[ inputs.x ]]`` replaced (see the module docstring). ``given``:
    the values (from an include's ``inputs:``, or ``--input`` text when ``from_cli``);
    ``variables``: what ``expand_vars`` expands (predefined and ``--var``);
    ``body_line``: the file line ``body`` starts on (for errors)."""
    spec = header.get("spec") if isinstance(header, Mapping) else None
    declared = spec.get("inputs") if isinstance(spec, Mapping) else None
    declared = declared if isinstance(declared, Mapping) else {}
    for key in given:
        if key not in declared:
            known = ", ".join(declared) or "none"
            raise PipelineError(
                f"input {key!r} is not declared in spec:inputs (declared: {known})",
                path=name,
                line=_line(spec, "inputs") if isinstance(spec, Mapping) else None,
            )
    values: dict[str, str] = {}
    for key, entry in declared.items():
        where: dict[str, Any] = {"path": name, "line": _line(declared, key)}
        if key in given:
            values[key] = _text(_checked(key, entry, given[key], where, from_cli))
        elif isinstance(entry, Mapping) and "default" in entry:
            values[key] = _text(_checked(key, entry, entry["default"], where, False))
        else:
            raise PipelineError(f"input {key!r} is required (no default) and not given", **where)

    def replace(match: re.Match[str]) -> str:
        key, functions = match.group(1), match.group(2)
        line = body_line + body.count("\n", 0, match.start())
        if key not in values:
            raise PipelineError(
                f"$[[ inputs.{key} ]]: no input {key!r} in spec:inputs", path=name, line=line
            )
        if not functions:
            return values[key]
        return _apply(functions, values[key], variables or {}, {"path": name, "line": line})

    return _REFERENCE.sub(replace, body)
