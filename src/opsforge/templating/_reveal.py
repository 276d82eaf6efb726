"""Secrets inside template variables.

Templates see a :class:`Secret`'s real value, revealed lazily where a template touches
it: reading a variable, an attribute or an item (:func:`reveal_one`, O(1), so large
variables such as every host's facts cost nothing to pass), and the arguments of a
filter or test and a printed container (:func:`reveal`, which copies only containers
that hold a secret). The secrets a render touched are noted, so a rendered value that
contains one can be wrapped back into a ``Secret`` (:func:`retaint`);
:func:`find_secrets` lists the secrets in a set of variables so callers can mask text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from opsforge.types import Secret

__all__ = ["TOUCHED", "find_secrets", "retaint", "reveal", "reveal_one", "revealing"]

_MAX_DEPTH = 64
_MIN_TAINT = 4  # shorter secrets taint only values equal to them, not values containing them

TOUCHED: ContextVar[list[Secret] | None] = ContextVar("opsforge_template_secrets", default=None)


def _walk(value: Any, depth: int) -> Iterator[Secret]:
    if isinstance(value, Secret):
        yield value
    elif depth >= _MAX_DEPTH or isinstance(value, str | bytes):
        return
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _walk(item, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _walk(item, depth + 1)


def find_secrets(variables: Any) -> tuple[Secret, ...]:
    """Every distinct :class:`Secret` in ``variables`` (mappings, lists, tuples, sets)."""
    return tuple(dict.fromkeys(_walk(variables, 0)))


def reveal_one(value: Any) -> Any:
    """A Secret's real value (noted as touched); anything else as it is."""
    if isinstance(value, Secret):
        touched = TOUCHED.get()
        if touched is not None:
            touched.append(value)
        return value.reveal()
    return value


def reveal(value: Any, depth: int = 0) -> Any:
    """``value`` with each Secret replaced by its real value; containers without a
    secret are returned as they are (no copy)."""
    if isinstance(value, Secret):
        return reveal_one(value)
    if depth >= _MAX_DEPTH or isinstance(value, str | int | float | bool | None):
        return value
    if isinstance(value, dict):
        copy: dict[Any, Any] | None = None
        for key, item in value.items():
            new = reveal(item, depth + 1)
            if new is not item:
                if copy is None:
                    copy = dict(value)
                copy[key] = new
        return value if copy is None else copy
    if isinstance(value, list | tuple):
        items = [reveal(item, depth + 1) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return items if isinstance(value, list) else tuple(items)
    return value


def retaint(value: Any, secrets: list[Secret], depth: int = 0) -> Any:
    """Wrap strings that contain a touched secret's text back into a ``Secret``."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            text = secret.reveal()
            if text and (value == text or (len(text) >= _MIN_TAINT and text in value)):
                return Secret(value)
        return value
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {key: retaint(item, secrets, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [retaint(item, secrets, depth + 1) for item in value]
    if isinstance(value, tuple):
        return tuple(retaint(item, secrets, depth + 1) for item in value)
    return value


def revealing(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` (a filter or test) called with its arguments revealed. Keeps Jinja2's
    ``pass_context``/``pass_environment`` marker, whose argument is passed untouched."""
    skip = 1 if hasattr(func, "jinja_pass_arg") else 0

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        shown = args[:skip] + tuple(reveal(arg) for arg in args[skip:])
        return func(*shown, **{key: reveal(value) for key, value in kwargs.items()})

    return call
