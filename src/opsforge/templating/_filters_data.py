"""Ansible's data filters: booleans, combine, dict/list reshaping, sets, JSON/YAML,
random, sizes. Jinja2's own filters (map, select, sort, join, ...) are kept as they are."""

from __future__ import annotations

import datetime
import itertools
import json
import math
import random as _random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import yaml
from jinja2 import Environment, Undefined, pass_environment
from jinja2.filters import do_unique

from opsforge.templating._locate import PluginError
from opsforge.templating._versions import compare_versions

__all__ = ["DATA_FILTERS", "to_bool"]

_TRUE = frozenset({"y", "yes", "on", "1", "true", "t"})
_FALSE = frozenset({"n", "no", "off", "0", "false", "f", ""})


def to_bool(value: Any) -> bool:
    """Ansible's boolean: yes/on/1/true/y/t are true; anything else is false."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int | float):
        return value == 1
    return str(value).strip().lower() in _TRUE


def ternary(value: Any, true_val: Any, false_val: Any, none_val: Any = None) -> Any:
    if value is None and none_val is not None:
        return none_val
    return true_val if value else false_val


def mandatory(value: Any, msg: str | None = None) -> Any:
    if isinstance(value, Undefined):
        if msg:
            raise PluginError(msg)
        name = getattr(value, "_undefined_name", None)
        what = f"'{name}' " if name else ""
        raise PluginError(f"Mandatory variable {what}not defined.")
    return value


def type_debug(value: Any) -> str:
    return type(value).__name__


# -- combine and reshaping ---------------------------------------------------------------

_LIST_MERGES = ("replace", "keep", "append", "prepend", "append_rp", "prepend_rp")


def _merge_lists(old: list[Any], new: list[Any], how: str) -> list[Any]:
    if how == "replace":
        return list(new)
    if how == "keep":
        return list(old)
    if how == "append":
        return old + new
    if how == "prepend":
        return new + old
    kept = [item for item in old if item not in new]
    return kept + new if how == "append_rp" else new + kept


def _merge(
    old: Mapping[Any, Any], new: Mapping[Any, Any], recursive: bool, how: str
) -> dict[Any, Any]:
    merged = dict(old)
    for key, value in new.items():
        current = merged.get(key)
        if (
            key in merged
            and recursive
            and isinstance(current, Mapping)
            and isinstance(value, Mapping)
        ):
            merged[key] = _merge(current, value, recursive, how)
        elif key in merged and isinstance(current, list) and isinstance(value, list):
            merged[key] = _merge_lists(current, value, how)
        else:
            merged[key] = value
    return merged


def combine(*terms: Any, recursive: bool = False, list_merge: str = "replace") -> dict[Any, Any]:
    if list_merge not in _LIST_MERGES:
        raise PluginError(
            f"list_merge must be one of {', '.join(_LIST_MERGES)}, not {list_merge!r}"
        )
    dicts: list[Mapping[Any, Any]] = []
    for term in terms:
        items = term if isinstance(term, list | tuple) else [term]
        for item in items:
            if not isinstance(item, Mapping):
                raise PluginError(f"combine expects dictionaries, got {type(item).__name__}")
            dicts.append(item)
    result: dict[Any, Any] = {}
    for item in dicts:
        result = _merge(result, item, recursive, list_merge)
    return result


def dict2items(
    value: Any, key_name: str = "key", value_name: str = "value"
) -> list[dict[str, Any]]:
    if not isinstance(value, Mapping):
        raise PluginError(f"dict2items expects a dictionary, got {type(value).__name__}")
    return [{key_name: k, value_name: v} for k, v in value.items()]


def items2dict(value: Any, key_name: str = "key", value_name: str = "value") -> dict[Any, Any]:
    result: dict[Any, Any] = {}
    for item in value:
        if not isinstance(item, Mapping) or key_name not in item or value_name not in item:
            raise PluginError(
                f"items2dict expects dictionaries with {key_name!r} and {value_name!r}"
            )
        result[item[key_name]] = item[value_name]
    return result


def _unique(items: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


@pass_environment
def unique(
    environment: Environment, value: Any, case_sensitive: bool = False, attribute: Any = None
) -> list[Any]:
    """Jinja2's unique (case-insensitive unless asked), as a list."""
    return list(do_unique(environment, value, case_sensitive=case_sensitive, attribute=attribute))


def union(a: Iterable[Any], b: Iterable[Any]) -> list[Any]:
    return _unique(itertools.chain(a, b))


def intersect(a: Iterable[Any], b: Iterable[Any]) -> list[Any]:
    other = list(b)
    return _unique(x for x in a if x in other)


def difference(a: Iterable[Any], b: Iterable[Any]) -> list[Any]:
    other = list(b)
    return _unique(x for x in a if x not in other)


def symmetric_difference(a: Iterable[Any], b: Iterable[Any]) -> list[Any]:
    left, right = list(a), list(b)
    return _unique([x for x in left if x not in right] + [x for x in right if x not in left])


def flatten(value: Any, levels: int | None = None, skip_nulls: bool = True) -> list[Any]:
    out: list[Any] = []
    for item in value:
        if skip_nulls and item in (None, "None", "null"):
            continue
        if isinstance(item, list | tuple) and (levels is None or levels > 0):
            out.extend(flatten(item, None if levels is None else levels - 1, skip_nulls))
        else:
            out.append(item)
    return out


def subelements(
    value: Any, subelements: str | Sequence[str], skip_missing: bool = False
) -> list[tuple[Any, Any]]:
    items = list(value.values()) if isinstance(value, Mapping) else list(value)
    path = subelements.split(".") if isinstance(subelements, str) else list(subelements)
    result: list[tuple[Any, Any]] = []
    for item in items:
        node: Any = item
        for key in path:
            if not isinstance(node, Mapping):
                raise PluginError(f"the key {key!r} should point into a dictionary, got {node!r}")
            if key not in node:
                if skip_missing:
                    node = None
                    break
                raise PluginError(f"could not find {key!r} key in iterated item {item!r}")
            node = node[key]
        if node is None:
            continue
        if not isinstance(node, list):
            raise PluginError(f"the key {'.'.join(path)!r} should point to a list, got {node!r}")
        result.extend((item, sub) for sub in node)
    return result


def extract(item: Any, container: Any, morekeys: Any = None) -> Any:
    value = container[item]
    keys = [] if morekeys is None else (morekeys if isinstance(morekeys, list) else [morekeys])
    for key in keys:
        value = value[key]
    return value


def random_filter(
    end: Any, start: int | None = None, step: int | None = None, seed: Any = None
) -> Any:
    rng: _random.Random = _random.SystemRandom() if seed is None else _random.Random(seed)
    if isinstance(end, int):
        return rng.randrange(start or 0, end, step or 1)
    if isinstance(end, Iterable):
        if start is not None or step is not None:
            raise PluginError("random: start and step only apply to an integer end")
        return rng.choice(list(end))
    raise PluginError(f"random expects an integer or a sequence, got {type(end).__name__}")


# -- JSON and YAML -------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, Undefined):
        str(value)  # raises the undefined error
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def to_json(value: Any, *args: Any, **kwargs: Any) -> str:
    kwargs.setdefault("default", _json_default)
    return json.dumps(value, *args, **kwargs)


def to_nice_json(value: Any, indent: int = 4, sort_keys: bool = True, **kwargs: Any) -> str:
    kwargs.setdefault("separators", (",", ": "))
    return to_json(value, indent=indent, sort_keys=sort_keys, **kwargs)


class _Dumper(yaml.SafeDumper):
    """SafeDumper that also writes tuples and str subclasses."""


_Dumper.add_representer(tuple, _Dumper.represent_list)
_Dumper.add_multi_representer(str, _Dumper.represent_str)


def _yaml_dump(value: Any, **kwargs: Any) -> str:
    text = str(yaml.dump(value, Dumper=_Dumper, allow_unicode=True, **kwargs))
    return text[:-4] if text.endswith("\n...\n") else text


def to_yaml(value: Any, **kwargs: Any) -> str:
    kwargs.setdefault("default_flow_style", None)
    return _yaml_dump(value, **kwargs)


def to_nice_yaml(value: Any, indent: int = 4, **kwargs: Any) -> str:
    kwargs.setdefault("default_flow_style", False)
    return _yaml_dump(value, indent=indent, **kwargs)


def from_yaml(value: Any) -> Any:
    return yaml.safe_load(value) if isinstance(value, str) else value


def from_yaml_all(value: Any) -> Any:
    return list(yaml.safe_load_all(value)) if isinstance(value, str) else value


# -- sizes -----------------------------------------------------------------------------------

_UNITS = "BKMGTPEZY"


def human_readable(size: Any, isbits: bool = False, unit: str | None = None) -> str:
    number = float(size)
    base = "bits" if isbits else "Bytes"
    suffix = "b" if isbits else "B"
    if unit:
        letter = unit[0].upper()
        if letter not in _UNITS:
            raise PluginError(f"unknown unit {unit!r}")
        power = _UNITS.index(letter)
    else:
        power = 0
        while power + 1 < len(_UNITS) and abs(number) >= 1 << (10 * (power + 1)):
            power += 1
    name = base if power == 0 else _UNITS[power] + suffix
    return f"{number / (1 << (10 * power)):.2f} {name}"


_SIZE = re.compile(r"^\s*(-?\d*\.?\d+)\s*([A-Za-z]*)\s*$")


def human_to_bytes(size: Any, default_unit: str | None = None, isbits: bool = False) -> int:
    match = _SIZE.match(str(size))
    if match is None:
        raise PluginError(f"cannot read {size!r} as a size (like '10M', '1.5 GB')")
    expected = "b" if isbits else "B"
    number, unit = float(match.group(1)), match.group(2) or default_unit or expected
    if unit.lower() in ("b", "byte", "bytes", "bit", "bits"):
        ok = unit[0] == expected or unit.lower().startswith("bit" if isbits else "byte")
        power = 0
    else:
        letter, rest = unit[0].upper(), unit[1:]
        ok = letter in _UNITS[1:] and rest in ("", expected, "i" + expected)
        power = _UNITS.index(letter) if ok else 0
    if not ok:
        kind = "bit" if isbits else "byte"
        raise PluginError(f"cannot read {size!r}: {unit!r} is not a {kind} unit")
    return round(number * (1 << (10 * power)))


def _version_compare(value: Any, version: Any, operator: str = "eq", strict: bool | None = None,
                     version_type: str | None = None) -> bool:  # fmt: skip
    return compare_versions(value, version, operator, strict, version_type)


DATA_FILTERS: dict[str, Callable[..., Any]] = {
    "bool": to_bool,
    "ternary": ternary,
    "mandatory": mandatory,
    "type_debug": type_debug,
    "combine": combine,
    "dict2items": dict2items,
    "items2dict": items2dict,
    "unique": unique,
    "union": union,
    "intersect": intersect,
    "difference": difference,
    "symmetric_difference": symmetric_difference,
    "flatten": flatten,
    "subelements": subelements,
    "extract": extract,
    "zip": lambda *lists: list(zip(*lists, strict=False)),
    "zip_longest": lambda *lists, fillvalue=None: list(
        itertools.zip_longest(*lists, fillvalue=fillvalue)
    ),
    "product": lambda *lists, repeat=1: list(itertools.product(*lists, repeat=repeat)),
    "permutations": lambda value, r=None: list(itertools.permutations(value, r)),
    "combinations": lambda value, r: list(itertools.combinations(value, r)),
    "random": random_filter,
    "to_json": to_json,
    "to_nice_json": to_nice_json,
    "from_json": lambda value, **kwargs: json.loads(value, **kwargs),
    "to_yaml": to_yaml,
    "to_nice_yaml": to_nice_yaml,
    "from_yaml": from_yaml,
    "from_yaml_all": from_yaml_all,
    "human_readable": human_readable,
    "human_to_bytes": human_to_bytes,
    "version_compare": _version_compare,
    "version": _version_compare,
    "log": lambda x, base=math.e: math.log(x, base),
    "pow": lambda x, y: math.pow(x, y),
    "root": lambda x, base=2: x ** (1.0 / base),
}
