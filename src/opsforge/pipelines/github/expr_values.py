"""GitHub's value rules: truthiness, number and string conversion, loose comparison.

Values are plain Python data: ``None``, ``bool``, ``int``/``float`` (numbers), ``str``,
``list`` (arrays) and ``dict`` (objects). When the two sides of a comparison have
different kinds, both become numbers (null 0, true 1, '' 0, a non-numeric string or any
array/object NaN). Strings compare without regard to case; arrays and objects are equal
only to themselves.
"""

from __future__ import annotations

import json
import math
from typing import Any

from opsforge.pipelines.github.expr_lexer import parse_number

__all__ = ["compare", "kind", "loose_equal", "to_json", "to_number", "to_string", "truthy"]


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True


def to_number(value: Any) -> float:
    k = kind(value)
    if k == "null":
        return 0.0
    if k == "boolean":
        return 1.0 if value else 0.0
    if k == "number":
        return float(value)
    if k == "string":
        return parse_number(value)
    return math.nan


def _number_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.15g}"
    if "e" in text:
        mantissa, _, exponent = text.partition("e")
        sign = exponent[0]
        text = f"{mantissa}E{sign}{int(exponent[1:]):02d}"
    return text


def to_string(value: Any) -> str:
    k = kind(value)
    if k == "null":
        return ""
    if k == "boolean":
        return "true" if value else "false"
    if k == "number":
        return _number_text(float(value))
    if k == "string":
        return str(value)
    return "Array" if k == "array" else "Object"


def loose_equal(left: Any, right: Any) -> bool:
    lk, rk = kind(left), kind(right)
    if lk != rk:
        return to_number(left) == to_number(right)
    if lk == "string":
        return bool(left.upper() == right.upper())
    if lk in ("array", "object"):
        return left is right
    if lk == "number":
        return float(left) == float(right)
    return bool(left == right)


def compare(op: str, left: Any, right: Any) -> bool:
    """``<``, ``<=``, ``>``, ``>=`` with GitHub's coercion (NaN compares false)."""
    lk, rk = kind(left), kind(right)
    a: Any
    b: Any
    if lk != rk:
        a, b = to_number(left), to_number(right)
    elif lk == "string":
        a, b = left.upper(), right.upper()
    elif lk in ("array", "object"):
        return False
    elif lk == "null":
        a = b = 0
    else:
        a, b = float(left), float(right)
    if isinstance(a, float) and (math.isnan(a) or math.isnan(b)):
        return False
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def to_json(value: Any) -> str:
    """``toJSON``: pretty-printed with two spaces; whole numbers without ``.0``."""
    return json.dumps(_jsonable(value), indent=2, ensure_ascii=False)
