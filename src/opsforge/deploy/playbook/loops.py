"""Loop items of a task: ``loop`` and the ``with_<lookup>`` forms, and ``loop_control``."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opsforge.deploy.playbook.args import as_str
from opsforge.deploy.playbook.model import Task
from opsforge.deploy.playbook.variables import VarSpace
from opsforge.errors import InputError

__all__ = ["LoopControl", "loop_items", "loop_vars"]


@dataclass(frozen=True, slots=True)
class LoopControl:
    loop_var: str = "item"
    index_var: str | None = None
    label: Any = None
    extended: bool = False
    pause: float = 0.0


def loop_control(task: Task, space: VarSpace) -> LoopControl:
    raw = task.keyword("loop_control")
    if raw is None:
        return LoopControl()
    if not isinstance(raw, Mapping):
        raise InputError("loop_control must be a mapping")
    unknown = set(raw) - {"loop_var", "index_var", "label", "extended", "pause",
                          "extended_allitems", "break_when"}  # fmt: skip
    if unknown:
        raise InputError(f"loop_control: unknown key '{sorted(unknown)[0]}'")
    if "break_when" in raw:
        raise InputError("loop_control: break_when is not supported yet")
    return LoopControl(
        loop_var=as_str(space.render(raw.get("loop_var", "item"))),
        index_var=as_str(space.render(raw["index_var"])) if raw.get("index_var") else None,
        label=raw.get("label"),
        extended=bool(space.render(raw.get("extended", False))),
        pause=float(space.render(raw.get("pause", 0)) or 0),
    )


def _flatten_once(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, list | tuple):
            out.extend(value)
        else:
            out.append(value)
    return out


def _lookup(space: VarSpace, name: str, terms: Any, origin: str) -> list[Any]:
    ctx = space.context(terms)
    ctx["__opsforge_terms"] = space.render(terms, origin)
    expr = f"query('{name}', *__opsforge_terms)"
    value = space.engine.evaluate(expr, ctx, origin=origin)
    return list(value)


def loop_items(task: Task, space: VarSpace) -> list[Any] | None:
    """The items of the task's loop, or None when it has no loop."""
    origin = task.origin
    if task.keyword("loop") is not None:
        value = space.render(task.keyword("loop"), origin)
        if isinstance(value, str):
            raise InputError(f"loop must be a list, got the string {value!r} "
                             "(to split a string, use its split() or a with_ lookup)")  # fmt: skip
        if isinstance(value, Mapping):
            raise InputError("loop must be a list; for a mapping use '| dict2items'")
        return list(value) if value is not None else []
    found = [k for k in task.keywords if isinstance(k, str) and k.startswith("with_")]
    if not found:
        return None
    if len(found) > 1:
        raise InputError(f"a task has one loop, found {', '.join(found)}")
    kind = found[0][len("with_") :]
    raw = task.keywords[found[0]]
    if kind in ("items", "list", "indexed_items", "together", "nested", "subelements"):
        terms = space.render(raw, origin)
        if isinstance(terms, str):
            terms = [terms]
        if kind == "items":
            return _flatten_once(list(terms))
        if kind == "list":
            return list(terms)
        if kind == "indexed_items":
            return [[i, v] for i, v in enumerate(_flatten_once(list(terms)))]
        if kind == "together":
            return [list(t) for t in itertools.zip_longest(*terms)]
        if kind == "nested":
            return [list(t) for t in itertools.product(*[_as_list(t) for t in terms])]
        return _subelements(terms)
    if kind in ("dict", "sequence", "fileglob", "first_found", "lines"):
        terms = raw if isinstance(raw, list) else [raw]
        return _lookup(space, kind, terms, origin)
    raise InputError(f"with_{kind} is not supported")


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _subelements(terms: Any) -> list[Any]:
    if not isinstance(terms, list) or len(terms) not in (2, 3):
        raise InputError("with_subelements needs [list, 'subkey'] (and optional flags)")
    items, key = terms[0], str(terms[1])
    skip_missing = (
        isinstance(terms[2:3], list)
        and bool(terms[2:3])
        and bool(isinstance(terms[2], Mapping) and terms[2].get("skip_missing"))
    )
    if isinstance(items, Mapping):
        items = list(items.values())
    out = []
    for item in items:
        value: Any = item
        for part in key.split("."):
            if not isinstance(value, Mapping) or part not in value:
                value = None
                break
            value = value[part]
        if value is None:
            if skip_missing:
                continue
            raise InputError(f"with_subelements: an item has no key '{key}'")
        for sub in _as_list(value):
            out.append([item, sub])
    return out


def loop_vars(control: LoopControl, item: Any, index: int, items: list[Any]) -> dict[str, Any]:
    """What one iteration sets: the loop var, the index var, ``ansible_loop``."""
    out: dict[str, Any] = {control.loop_var: item, "ansible_loop_var": control.loop_var}
    if control.index_var:
        out[control.index_var] = index
        out["ansible_index_var"] = control.index_var
    count = len(items)
    out["ansible_loop"] = {
        "index": index + 1,
        "index0": index,
        "revindex": count - index,
        "revindex0": count - index - 1,
        "first": index == 0,
        "last": index == count - 1,
        "length": count,
        "previtem": items[index - 1] if index > 0 else None,
        "nextitem": items[index + 1] if index + 1 < count else None,
    }
    return out
