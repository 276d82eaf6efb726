"""YAML loaded with line numbers, for checks that point at the offending line.

:func:`load_documents` returns every document of a stream; mappings are
:class:`LineDict` (a dict that knows the line of itself and of each key),
sequences :class:`LineList`. Broken YAML raises :class:`YamlProblem` with
the line of the error. Only safe types are built (SafeLoader, C-accelerated
when available).
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["LineDict", "LineList", "YamlProblem", "key_line", "line_of", "load_documents"]

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineDict(dict[Any, Any]):
    line: int = 0
    key_lines: dict[Any, int]


class LineList(list[Any]):
    line: int = 0


class YamlProblem(Exception):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _Loader(_Base):  # type: ignore[misc]
    pass


def _mapping(loader: Any, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            key = str(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _sequence(loader: Any, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)
# tags like !vault or !reference (GitLab) load as plain values instead of failing
_Loader.add_multi_constructor(
    "!", lambda loader, suffix, node: loader.construct_scalar(node)
    if isinstance(node, yaml.ScalarNode) else None,
)  # fmt: skip


def load_documents(text: str) -> list[Any]:
    """All documents of a YAML stream, with line numbers; raises :class:`YamlProblem`."""
    try:
        return list(yaml.load_all(text, Loader=_Loader))  # nosec B506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        detail = exc.problem or exc.context or "malformed YAML"
        raise YamlProblem(f"broken YAML: {detail}", line) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"broken YAML: {exc}", None) from None
    except RecursionError:
        raise YamlProblem("broken YAML: nested too deeply", None) from None


def line_of(value: Any, default: int = 0) -> int:
    return int(getattr(value, "line", default) or default)


def key_line(mapping: Any, key: Any, default: int = 0) -> int:
    lines = getattr(mapping, "key_lines", None)
    if isinstance(lines, dict) and key in lines:
        return int(lines[key])
    return line_of(mapping, default)
