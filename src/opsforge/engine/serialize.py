"""Turn event payloads into JSON-safe values, masking secrets on the way.

Every ``to_dict()`` of the engine goes through :func:`to_jsonable`, so a
:class:`~opsforge.types.Secret` can only ever leave the process as ``"***"``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Set
from dataclasses import fields, is_dataclass
from pathlib import PurePath
from typing import Any

from opsforge.types import Result, Secret

__all__ = ["MASK", "to_jsonable"]

MASK = "***"

_MAX_DEPTH = 32


def to_jsonable(value: Any, *, _depth: int = 0) -> Any:
    """A JSON-serialisable copy of ``value``.

    Secrets become ``"***"``; a :class:`Result` becomes ``Result.to_dict()``;
    enums become their value; mappings, sequences and sets become dicts and lists
    (sets sorted, for stable output); other dataclasses become dicts of their
    fields; non-finite floats become None; anything else becomes ``str(value)``.
    """
    if _depth > _MAX_DEPTH:
        return "..."
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, _depth=_depth + 1)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Result):
        return value.to_dict()
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, type):
        return to_jsonable(to_dict(), _depth=_depth + 1)
    if isinstance(value, Mapping):
        return {
            str(to_jsonable(k, _depth=_depth + 1)): to_jsonable(v, _depth=_depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, Set):
        items = [to_jsonable(v, _depth=_depth + 1) for v in value]
        return sorted(items, key=repr)
    if isinstance(value, list | tuple):
        return [to_jsonable(v, _depth=_depth + 1) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, PurePath):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_jsonable(getattr(value, f.name), _depth=_depth + 1) for f in fields(value)
        }
    return str(value)
