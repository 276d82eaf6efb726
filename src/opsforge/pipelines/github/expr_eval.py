"""Evaluate a parsed expression against contexts, with the job's status for the
status functions. Property names and context names match without regard to case."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsforge.pipelines.github.expr_functions import call
from opsforge.pipelines.github.expr_parser import (
    Binary,
    Call,
    ContextRef,
    Filter,
    Index,
    Literal,
    Logical,
    Member,
    Node,
    Not,
)
from opsforge.pipelines.github.expr_values import compare, loose_equal, to_number, to_string, truthy

__all__ = ["Scope", "evaluate", "lookup"]


@dataclass(frozen=True)
class Scope:
    """What an expression can see: the contexts, the workspace (for ``hashFiles``) and
    the state of the job so far (``success``/``failure``/``cancelled``)."""

    contexts: Mapping[str, Any] = field(default_factory=dict)
    workspace: Path = Path()
    status: str = "success"


class _Filtered(list[Any]):
    """The array an object filter made: later property access maps over its items."""


def lookup(mapping: Mapping[str, Any], key: str) -> Any:
    """``mapping[key]`` with GitHub's case-insensitive names; ``None`` when absent."""
    if key in mapping:
        return mapping[key]
    folded = key.casefold()
    for name, value in mapping.items():
        if isinstance(name, str) and name.casefold() == folded:
            return value
    return None


def _over_filtered(value: _Filtered, pick: Callable[[Any], Any]) -> _Filtered:
    """Property access on a filtered array applies to each item; nulls are dropped."""
    return _Filtered(got for item in value if (got := pick(item)) is not None)


def _member(value: Any, name: str) -> Any:
    if isinstance(value, _Filtered):
        return _over_filtered(value, lambda item: _member(item, name))
    if isinstance(value, Mapping):
        return lookup(value, name)
    return None


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, _Filtered):
        return _over_filtered(value, lambda item: _index(item, key))
    if isinstance(value, Mapping):
        return lookup(value, to_string(key))
    if isinstance(value, list):
        number = to_number(key)
        if math.isnan(number) or math.isinf(number) or number < 0:
            return None
        position = int(number)
        return value[position] if position < len(value) else None
    return None


def _filter(value: Any) -> _Filtered:
    out = _Filtered()
    items = value if isinstance(value, _Filtered) else [value]
    for item in items:
        if isinstance(item, list):
            out.extend(item)
        elif isinstance(item, Mapping):
            out.extend(item.values())
    return out


def _eval(node: Node, scope: Scope) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, ContextRef):
        return lookup(scope.contexts, node.name)
    if isinstance(node, Member):
        return _member(_eval(node.obj, scope), node.name)
    if isinstance(node, Index):
        return _index(_eval(node.obj, scope), _eval(node.index, scope))
    if isinstance(node, Filter):
        return _filter(_eval(node.obj, scope))
    if isinstance(node, Not):
        return not truthy(_eval(node.operand, scope))
    if isinstance(node, Logical):
        left = _eval(node.left, scope)
        if node.op == "&&":
            return _eval(node.right, scope) if truthy(left) else left
        return left if truthy(left) else _eval(node.right, scope)
    if isinstance(node, Binary):
        left, right = _eval(node.left, scope), _eval(node.right, scope)
        if node.op == "==":
            return loose_equal(left, right)
        if node.op == "!=":
            return not loose_equal(left, right)
        return compare(node.op, left, right)
    assert isinstance(node, Call)
    if node.name == "always":
        return True
    if node.name == "success":
        return scope.status == "success"
    if node.name == "failure":
        return scope.status == "failure"
    if node.name == "cancelled":
        return scope.status == "cancelled"
    return call(node.name, [_plain(_eval(arg, scope)) for arg in node.args], scope.workspace)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, _Filtered) else value


def evaluate(node: Node, scope: Scope) -> Any:
    """The value of ``node``; raises ``FunctionFailed`` when a function cannot answer."""
    return _plain(_eval(node, scope))
