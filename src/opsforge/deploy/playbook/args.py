"""Reading templated module arguments the way Ansible does: booleans from yes/no
strings, lists from comma text, numbers from strings."""

from __future__ import annotations

from typing import Any

from opsforge.errors import InputError
from opsforge.types import Secret

__all__ = ["as_bool", "as_float", "as_int", "as_list", "as_str", "opt_str"]

_TRUE = {"yes", "on", "1", "true", "y", "t"}
_FALSE = {"no", "off", "0", "false", "n", "f", ""}


def as_bool(value: Any, name: str = "value", default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InputError(f"{name}: expected a boolean, got {value!r}")


def as_int(value: Any, name: str = "value") -> int:
    try:
        return int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise InputError(f"{name}: expected a whole number, got {value!r}") from None


def as_float(value: Any, name: str = "value") -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected a number, got {value!r}") from None


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [value]


def as_str(value: Any, name: str = "value") -> str:
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str | int | float):
        return str(value)
    raise InputError(f"{name}: expected text, got {type(value).__name__} {value!r}")


def opt_str(value: Any, name: str = "value") -> str | None:
    return None if value is None else as_str(value, name)
