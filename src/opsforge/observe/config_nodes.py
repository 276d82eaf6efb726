"""Typed reading of a YAML config with ``file:line`` in every error.

The file is composed into PyYAML nodes (which keep their line), and :class:`Section`
hands out typed values: ``section.text("url")``, ``section.number("timeout", 5)``.
A wrong type, a missing key or an unknown key is an :class:`ObserveConfigError` that
names the file and the line of the offending key or value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from opsforge.observe.errors import ObserveConfigError

__all__ = ["Section", "load_section"]


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


class Section:
    """A YAML mapping node with typed getters. Every key read is remembered, so
    :meth:`finish` can refuse keys nobody asked for (typos)."""

    def __init__(self, node: yaml.Node, path: str, what: str) -> None:
        if not isinstance(node, yaml.MappingNode):
            raise ObserveConfigError(f"{what} must be a mapping", path=path, line=_line(node))
        self.node = node
        self.path = path
        self.what = what
        self.line = _line(node)
        self._items: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in self._items:
                raise ObserveConfigError(
                    f"{what}: duplicate key {key!r}", path=path, line=_line(key_node)
                )
            self._items[key] = (key_node, value_node)
        self._used: set[str] = set()

    def error(self, message: str, key: str | None = None) -> ObserveConfigError:
        line = _line(self._items[key][0]) if key in self._items else self.line
        return ObserveConfigError(f"{self.what}: {message}", path=self.path, line=line)

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def key_names(self) -> list[str]:
        """The keys as written (for free-form mappings such as label matchers)."""
        return list(self._items)

    def _value(self, key: str) -> yaml.Node | None:
        self._used.add(key)
        item = self._items.get(key)
        if item is None or (isinstance(item[1], yaml.ScalarNode) and item[1].tag.endswith(":null")):
            return None
        return item[1]

    def _scalar(self, key: str, required: bool) -> Any:
        node = self._value(key)
        if node is None:
            if required:
                raise self.error(f"{key!r} is required")
            return None
        if not isinstance(node, yaml.ScalarNode):
            raise ObserveConfigError(
                f"{self.what}: {key!r} must be a single value", path=self.path, line=_line(node)
            )
        return yaml.SafeLoader("").construct_object(node)

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self._scalar(key, required)
        if value is None:
            return default
        if isinstance(value, bool | dict | list):
            raise self.error(f"{key!r} must be a string", key)
        return str(value)

    def required_text(self, key: str) -> str:
        value = self.text(key, required=True)
        assert value is not None
        return value

    def number(self, key: str, default: float, *, minimum: float = 0.0) -> float:
        value = self._scalar(key, False)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"{key!r} must be a number, not {value!r}", key)
        if value < minimum:
            raise self.error(f"{key!r} must be at least {minimum:g}", key)
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self._scalar(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(f"{key!r} must be true or false", key)
        return value

    def regex(self, key: str, default: str) -> re.Pattern[str]:
        pattern = self.text(key, default) or default
        try:
            return re.compile(pattern)
        except re.error as exc:
            raise self.error(f"{key!r} is not a valid regular expression: {exc}", key) from None

    def texts(self, key: str) -> list[str]:
        node = self._value(key)
        if node is None:
            return []
        if isinstance(node, yaml.ScalarNode):
            return [str(node.value)]
        if not isinstance(node, yaml.SequenceNode) or not all(
            isinstance(item, yaml.ScalarNode) for item in node.value
        ):
            raise self.error(f"{key!r} must be a list of strings", key)
        return [str(item.value) for item in node.value]

    def section(self, key: str) -> Section | None:
        node = self._value(key)
        return None if node is None else Section(node, self.path, f"{key}")

    def sections(self, key: str) -> Iterator[Section]:
        node = self._value(key)
        if node is None:
            return
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(f"{key!r} must be a list", key)
        for index, item in enumerate(node.value):
            yield Section(item, self.path, f"{key}[{index}]")

    def finish(self) -> None:
        """Refuse keys that were never read (a typo would otherwise be silently ignored)."""
        for key, (key_node, _) in self._items.items():
            if key not in self._used:
                known = ", ".join(sorted(self._used)) or "none"
                raise ObserveConfigError(
                    f"{self.what}: unknown key {key!r} (known: {known})",
                    path=self.path,
                    line=_line(key_node),
                )


def load_section(path: Path, what: str) -> Section:
    """The top-level mapping of a YAML file (an empty file is an empty mapping)."""
    display = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ObserveConfigError("no such file", path=display) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ObserveConfigError(f"cannot read: {exc}", path=display) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ObserveConfigError(f"invalid YAML: {exc.problem}", path=display, line=line) from None
    except yaml.YAMLError as exc:
        raise ObserveConfigError(f"invalid YAML: {exc}", path=display) from None
    if node is None:  # an empty file: an empty mapping
        node = yaml.MappingNode("tag:yaml.org,2002:map", [], yaml.Mark(display, 0, 0, 0, "", 0))
    return Section(node, display, what)
