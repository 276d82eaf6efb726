"""Workflow inputs: what ``on.workflow_dispatch.inputs`` / ``on.workflow_call.inputs``
declare, and the values given for them (``LoadOptions.inputs``, ``--input NAME=VALUE``).

Each given value is checked against the declared ``type`` (``boolean``: true/false,
``number``, ``choice``: one of ``options``, ``string``, ``environment``) and keeps that
type in the ``inputs`` context; a declared input left out takes its ``default``. A value
of the wrong type, a name no trigger declares, and a ``required`` input without value
or default are errors naming the file:line of the declaration. Required inputs are
enforced when the run's event is ``workflow_dispatch``/``workflow_call`` or is not one
of the workflow's triggers (a dispatch-only workflow run locally as asked); a run as
another declared trigger (``push``) gets the defaults, as the inputs are optional then.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.github.expr_values import to_string
from opsforge.pipelines.github.yaml_source import line_of

__all__ = ["INPUT_EVENTS", "INPUT_TYPES", "workflow_inputs"]

INPUT_EVENTS = ("workflow_call", "workflow_dispatch")
INPUT_TYPES = ("string", "boolean", "number", "choice", "environment")


@dataclass(frozen=True, slots=True)
class _Declared:
    name: str
    kind: str
    required: bool
    default: Any
    has_default: bool
    options: tuple[str, ...]
    event: str
    line: int | None


def _declarations(events: Mapping[str, Any], event: str, path: str) -> dict[str, _Declared]:
    """Every declared input; the run's event's declaration wins over the other's."""
    order = sorted(INPUT_EVENTS, key=lambda e: e == event)
    out: dict[str, _Declared] = {}
    for name_of_event in order:
        spec = events.get(name_of_event)
        declared = spec.get("inputs") if isinstance(spec, Mapping) else None
        if declared is None:
            continue
        if not isinstance(declared, Mapping):
            raise PipelineError(
                f"on.{name_of_event}.inputs must be a mapping", path=path, line=line_of(spec)
            )
        for name, item in declared.items():
            line = line_of(declared, name)
            if item is None:
                item = {}
            if not isinstance(item, Mapping):
                raise PipelineError(
                    f"input {name!r}: a declaration is a mapping (type, default, ...)",
                    path=path,
                    line=line,
                )
            kind = to_string(item.get("type", "string"))
            if kind not in INPUT_TYPES:
                raise PipelineError(
                    f"input {name!r}: unknown type {kind!r} (types: {', '.join(INPUT_TYPES)})",
                    path=path,
                    line=line,
                )
            options = item.get("options")
            if kind == "choice" and (not isinstance(options, list) or not options):
                raise PipelineError(
                    f"input {name!r}: type choice needs a list of options", path=path, line=line
                )
            required = item.get("required", False)
            out[str(name)] = _Declared(
                str(name),
                kind,
                required is True or to_string(required).lower() == "true",
                item.get("default"),
                "default" in item,
                tuple(to_string(o) for o in options) if isinstance(options, list) else (),
                name_of_event,
                line,
            )
    return out


def _typed(decl: _Declared, value: Any, path: str, given: bool) -> Any:
    """``value`` as the declared type; PipelineError (at the declaration) when it is not."""
    origin = "--input value" if given else "default"

    def bad(expected: str) -> PipelineError:
        return PipelineError(
            f"input {decl.name!r} ({decl.kind}): {origin} {to_string(value)!r} is not {expected}",
            path=path,
            line=decl.line,
        )

    if decl.kind == "boolean":
        if isinstance(value, bool):
            return value
        text = to_string(value).strip().lower()
        if text not in ("true", "false"):
            raise bad("true or false")
        return text == "true"
    if decl.kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        try:
            number = float(to_string(value).strip())
        except ValueError:
            raise bad("a number") from None
        if not math.isfinite(number):
            raise bad("a finite number")
        return int(number) if number.is_integer() else number
    text = to_string(value)
    if decl.kind == "choice" and text not in decl.options:
        raise bad(f"one of the options: {', '.join(decl.options)}")
    return text


def workflow_inputs(
    events: Mapping[str, Any],
    given: Mapping[str, str],
    event: str,
    path: str,
    on_line: int | None = None,
) -> dict[str, Any]:
    """The ``inputs`` context: declared defaults, then ``given`` (see the module doc)."""
    declared = _declarations(events, event, path)
    unknown = sorted(set(given) - set(declared))
    if unknown:
        names = ", ".join(declared) or "none"
        raise PipelineError(
            f"input {unknown[0]!r} is not declared in on.workflow_dispatch/workflow_call "
            f"inputs (declared: {names})",
            path=path,
            line=on_line,
        )
    enforce = event in INPUT_EVENTS or event not in events
    inputs: dict[str, Any] = {}
    for name, decl in declared.items():
        if name in given:
            inputs[name] = _typed(decl, given[name], path, True)
        elif decl.has_default and decl.default is not None:
            inputs[name] = _typed(decl, decl.default, path, False)
        elif decl.required and enforce:
            raise PipelineError(
                f"input {name!r} (on.{decl.event}) is required and has no default; "
                f"give it: --input {name}=VALUE",
                path=path,
                line=decl.line,
            )
        else:
            inputs[name] = False if decl.kind == "boolean" else ""
    return inputs
