"""CircleCI 2.1 parameters: declarations (types, defaults, enums), ``<< parameters.x >>``
and ``<< pipeline.* >>`` substitution, and the logic statements of ``when``/``unless``.

A string that is exactly one ``<< ... >>`` becomes the parameter's typed value (a
boolean, an integer, a list of steps, an executor); anywhere else the value is put
into the text. A parameter without a default that the caller does not give, a value of
the wrong type, and an unknown parameter are errors naming file:line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.github.yaml_source import LineMap, LineSeq, line_of

__all__ = ["bind", "evaluate_logic", "substitute"]

_REF = re.compile(r"<<\s*([A-Za-z0-9_.\-]+)\s*>>")
TYPES = ("string", "boolean", "integer", "enum", "executor", "steps", "env_var_name")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _check_type(
    name: str,
    spec: Mapping[str, Any],
    value: Any,
    where: tuple[str, int | None],
    job: str | None,
    label: str = "parameter",
) -> Any:
    kind = spec.get("type", "string")
    path, line = where

    def bad(what: str) -> PipelineError:
        return PipelineError(f"{label} {name!r} {what}", path=path, line=line, job=job)

    if kind == "boolean":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise bad(f"must be a boolean, not {value!r}")
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            try:
                return int(str(value))
            except ValueError:
                raise bad(f"must be an integer, not {value!r}") from None
    elif kind == "enum":
        allowed = [_text(v) for v in spec.get("enum") or []]
        if _text(value) not in allowed:
            raise bad(f"must be one of {', '.join(allowed)}, not {value!r}")
    elif kind == "env_var_name":
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", _text(value)):
            raise bad(f"must be an environment variable name, not {value!r}")
    elif kind == "steps":
        if not isinstance(value, list):
            raise bad("must be a list of steps")
    elif kind not in TYPES:
        raise bad(f"has an unknown type {kind!r} (types: {', '.join(TYPES)})")
    return value


def bind(
    declared: Any,
    given: Mapping[str, Any],
    *,
    path: str,
    line: int | None,
    job: str | None,
    what: str,
) -> dict[str, Any]:
    """The parameter values of one use of a job/command/executor: ``given`` checked
    against ``declared`` (defaults filled in)."""
    declared = declared or {}
    if not isinstance(declared, Mapping):
        raise PipelineError(f"{what}: parameters must be a mapping", path=path, line=line, job=job)
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise PipelineError(
            f"{what}: unknown parameter {unknown[0]!r} (declared: {', '.join(declared) or 'none'})",
            path=path,
            line=line,
            job=job,
        )
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        spec = spec if isinstance(spec, Mapping) else {}
        if name in given:
            value = given[name]
        elif "default" in spec:
            value = spec["default"]
        else:
            raise PipelineError(
                f"{what}: missing required parameter {name!r}", path=path, line=line, job=job
            )
        label = "pipeline parameter" if what == "pipeline" else "parameter"
        values[str(name)] = _check_type(
            str(name), spec, value, (path, line_of(declared, name)), job, label
        )
    return values


def _lookup(ref: str, scope: Mapping[str, Any]) -> tuple[bool, Any]:
    node: Any = scope
    for part in ref.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def substitute(
    value: Any, scope: Mapping[str, Any], *, path: str, job: str | None, line: int | None = None
) -> Any:
    """Replace ``<< parameters.x >>``/``<< pipeline.x >>``/``<< matrix.x >>`` in ``value``."""
    if isinstance(value, str):
        here = line
        whole = _REF.fullmatch(value.strip())
        if whole is not None:
            found, got = _lookup(whole.group(1), scope)
            if not found:
                raise PipelineError(
                    f"<< {whole.group(1)} >> is not defined", path=path, line=here, job=job
                )
            return got

        def one(match: re.Match[str]) -> str:
            found, got = _lookup(match.group(1), scope)
            if not found:
                raise PipelineError(
                    f"<< {match.group(1)} >> is not defined", path=path, line=here, job=job
                )
            return _text(got)

        return _REF.sub(one, value)
    if isinstance(value, LineMap):
        out = LineMap()
        out.path, out.line, out.key_lines = value.path, value.line, dict(value.key_lines)
        for key, item in value.items():
            out[key] = substitute(item, scope, path=path, job=job, line=value.line_of(key))
        return out
    if isinstance(value, Mapping):
        return {k: substitute(v, scope, path=path, job=job, line=line) for k, v in value.items()}
    if isinstance(value, list):
        seq = LineSeq()
        seq.path, seq.line = getattr(value, "path", path), getattr(value, "line", line or 0)
        seq.item_lines = list(getattr(value, "item_lines", []))
        seq.extend(
            substitute(
                v,
                scope,
                path=path,
                job=job,
                line=line_of(v) or (seq.line_of_item(i) if seq.item_lines else line),
            )
            for i, v in enumerate(value)
        )
        return seq
    return value


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def evaluate_logic(value: Any) -> bool:
    """A CircleCI logic statement (``and``/``or``/``not``/``equal``/``matches`` or a
    plain value, truthy unless false/0/""/null) after substitution."""
    if isinstance(value, Mapping) and len(value) == 1:
        ((op, arg),) = value.items()
        if op == "and":
            return all(evaluate_logic(v) for v in _items(arg))
        if op == "or":
            return any(evaluate_logic(v) for v in _items(arg))
        if op == "not":
            return not evaluate_logic(arg)
        if op == "equal":
            items = _items(arg) or [None]
            return all(_text(item) == _text(items[0]) for item in items)
        if op == "matches" and isinstance(arg, Mapping):
            pattern = str(arg.get("pattern", "")).strip("/")
            return re.fullmatch(pattern, _text(arg.get("value"))) is not None
    return value not in (False, 0, "", None, "false") and value != []
