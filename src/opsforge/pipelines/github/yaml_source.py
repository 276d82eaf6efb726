"""YAML with line numbers for the workflow front-ends (GitHub Actions, CircleCI).

Mappings load as :class:`LineMap`, sequences as :class:`LineSeq`; both know their file
and line, and a mapping the line of each key, so errors name ``file:line``. Keys are kept
as written, and booleans are YAML 1.2's: ``on:``, ``yes`` and ``off`` are strings here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.formats import LoadOptions
from opsforge.pipelines.model import ExcludedJob, SourceLocation

__all__ = ["FileLoader", "LineMap", "LineSeq", "line_of", "load_yaml", "location"]


class LineMap(dict[str, Any]):
    """A mapping that knows its file, its line and each key's line."""

    path: str = ""
    line: int = 0
    key_lines: dict[str, int]

    def __init__(self) -> None:
        super().__init__()
        self.key_lines = {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineSeq(list[Any]):
    """A sequence that knows its file, its line and the line of each item."""

    path: str = ""
    line: int = 0
    item_lines: list[int]

    def __init__(self) -> None:
        super().__init__()
        self.item_lines = []

    def line_of_item(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


def location(
    value: Any, key: str | None = None, fallback: SourceLocation | None = None
) -> SourceLocation | None:
    """Where ``value`` (or its ``key``) was written."""
    if isinstance(value, LineMap):
        return SourceLocation(value.path, value.line_of(key) if key else value.line)
    if isinstance(value, LineSeq):
        return SourceLocation(value.path, value.line)
    return fallback


def line_of(value: Any, key: str | None = None) -> int | None:
    """The line of ``value`` (or of its ``key``), None when not loaded from YAML."""
    loc = location(value, key)
    return None if loc is None else loc.line


#: libyaml's parser when PyYAML has it (several times faster), else the pure-Python one
_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOOL = "tag:yaml.org,2002:bool"
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


def _loader_class(path: str) -> type[yaml.SafeLoader]:
    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Iterator[LineMap]:
        data = LineMap()
        data.path, data.line = path, node.start_mark.line + 1
        yield data
        loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = key_node.value  # the text as written: `on` stays "on", `3` stays "3"
            else:
                raise PipelineError(
                    "a mapping key must be a plain value",
                    path=path,
                    line=key_node.start_mark.line + 1,
                )
            data[key] = loader.construct_object(value_node, deep=True)
            data.key_lines[key] = key_node.start_mark.line + 1

    def sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> Iterator[LineSeq]:
        data = LineSeq()
        data.path, data.line = path, node.start_mark.line + 1
        data.item_lines = [child.start_mark.line + 1 for child in node.value]
        yield data
        data.extend(loader.construct_object(child, deep=True) for child in node.value)

    cls: type[yaml.SafeLoader] = type("WorkflowLoader", (_BASE,), {})
    # YAML 1.2 booleans, as GitHub and CircleCI read them: `yes`, `on`, `off` are strings
    cls.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    cls.add_implicit_resolver(_BOOL, _BOOL_RE, list("tTfF"))
    cls.add_constructor("tag:yaml.org,2002:map", mapping)
    cls.add_constructor("tag:yaml.org,2002:seq", sequence)
    return cls


def load_yaml(path: Path, shown: str | None = None) -> Any:
    """Parse ``path``; errors name the file (as ``shown``) and line."""
    name = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PipelineError(f"cannot read: {exc.strerror or exc}", path=name) from None
    except UnicodeDecodeError:
        raise PipelineError("not UTF-8 text", path=name) from None
    try:
        return yaml.load(text, Loader=_loader_class(name))  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise PipelineError(
            f"YAML syntax error: {problem}", path=name, line=mark.line + 1 if mark else None
        ) from None
    except yaml.YAMLError as exc:
        raise PipelineError(f"YAML: {exc}", path=name) from None


class FileLoader:
    """What every YAML front-end's loader keeps: the options, the file as shown in
    messages (relative to the project root), warnings and jobs left out."""

    def __init__(self, path: Path, options: LoadOptions) -> None:
        self.options = options
        self.root = options.root
        resolved, root = path.resolve(), options.root.resolve()
        self.shown = str(resolved.relative_to(root)) if resolved.is_relative_to(root) else str(path)
        self.warnings: list[tuple[str, SourceLocation | None]] = []
        self.excluded: list[ExcludedJob] = []

    def error(
        self, message: str, value: Any = None, key: str | None = None, job: str | None = None
    ) -> PipelineError:
        return PipelineError(message, path=self.shown, line=line_of(value, key), job=job)
