"""GitLab CI YAML with line numbers, anchors, merge keys and ``!reference`` tags.

Mappings load as :class:`YMap` (a dict that knows its file, line and each key's line),
sequences as :class:`YSeq`. ``!reference [job, key, ...]`` loads as a
:class:`Reference`, resolved after includes and ``extends`` by
:func:`resolve_references`. A YAML syntax error is a :class:`PipelineError` with
file:line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.gitlab.inputs import interpolate
from opsforge.pipelines.model import SourceLocation

__all__ = ["Reference", "YMap", "YSeq", "load_yaml_file", "loc", "resolve_references"]


class YMap(dict[str, Any]):
    path: str = ""
    line: int = 0

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.key_lines: dict[str, int] = {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YSeq(list[Any]):
    path: str = ""
    line: int = 0


class Reference:
    """``!reference [a, b, c]``: the value at ``a.b.c`` of the merged configuration."""

    def __init__(self, keys: list[str], path: str, line: int) -> None:
        self.keys = keys
        self.path = path
        self.line = line

    def __repr__(self) -> str:
        return f"!reference {self.keys}"


def loc(value: Any, key: str | None = None) -> SourceLocation | None:
    if isinstance(value, YMap):
        return SourceLocation(value.path, value.line_of(key) if key else value.line)
    if isinstance(value, YSeq | Reference):
        return SourceLocation(value.path, value.line)
    return None


#: libyaml's parser when PyYAML has it (several times faster), else the pure-Python one
_BASE: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE):  # type: ignore[valid-type,misc]
    filename = ""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> YMap:
    loader.flatten_mapping(node)  # merge keys (<<: *anchor)
    result = YMap()
    result.path = loader.filename
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, bool | int | float) or key is None:
            key = str(key).lower() if isinstance(key, bool) else str(key)
        if not isinstance(key, str):
            raise PipelineError(
                "mapping keys must be strings",
                path=loader.filename,
                line=key_node.start_mark.line + 1,
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> YSeq:
    result = YSeq(loader.construct_object(child, deep=True) for child in node.value)
    result.path = loader.filename
    result.line = node.start_mark.line + 1
    return result


def _construct_reference(loader: _Loader, node: yaml.Node) -> Reference:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.SequenceNode):
        raise PipelineError(
            "!reference takes a list: !reference [job, key]", path=loader.filename, line=line
        )
    keys = [str(loader.construct_object(child)) for child in node.value]
    if not keys:
        raise PipelineError("!reference needs at least one key", path=loader.filename, line=line)
    return Reference(keys, loader.filename, line)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)
_Loader.add_constructor("!reference", _construct_reference)


def load_yaml_file(
    path: Path,
    display: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    *,
    cli_inputs: bool = False,
    variables: Mapping[str, str] | None = None,
) -> Any:
    """Parse ``path``; syntax errors become :class:`PipelineError` with file:line.

    A file of two documents whose first holds ``spec:`` (a CI/CD component or a
    file with inputs) yields the second, with ``$[[ inputs.x ]]`` interpolated
    (:mod:`opsforge.pipelines.gitlab.inputs`); ``cli_inputs``: the values are
    ``--input`` text, converted to the declared types; ``variables``: what the
    ``expand_vars`` function expands.
    """
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PipelineError(f"cannot read: {exc.strerror}", path=name) from None
    parts = re.split(r"^---[ \t]*$", text, maxsplit=1, flags=re.M)
    if len(parts) == 2 and re.search(r"^spec:", parts[0], re.M):
        header = _parse(parts[0], name)
        offset = parts[0].count("\n")  # the body starts on the "---" line itself
        body = interpolate(
            header,
            parts[1],
            inputs or {},
            name,
            from_cli=cli_inputs,
            variables=variables,
            body_line=offset + 1,
        )
        return _parse("\n" * offset + body, name)
    if inputs:
        raise PipelineError(
            f"input {next(iter(inputs))!r} given, but the file declares no spec:inputs "
            "(a header document `spec: {inputs: ...}` then `---`)",
            path=name,
        )
    return _parse(text, name)


def _parse(text: str, name: str) -> Any:
    loader = _Loader(text)
    loader.filename = name
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise PipelineError(f"YAML syntax error: {problem}", path=name, line=line) from None
    except yaml.YAMLError as exc:
        raise PipelineError(f"YAML error: {exc}", path=name) from None
    finally:
        loader.dispose()


def resolve_references(value: Any, config: Mapping[str, Any], depth: int = 0) -> Any:
    """Replace every :class:`Reference` in ``value`` by what it points at in ``config``.

    A reference inside a list that points at a list is spliced in (GitLab nests one level).
    """
    if depth > 10:
        raise PipelineError("!reference nested more than 10 levels deep")
    if isinstance(value, Reference):
        target: Any = config
        for key in value.keys:
            if not isinstance(target, Mapping) or key not in target:
                raise PipelineError(
                    f"!reference {value.keys}: {key!r} not found", path=value.path, line=value.line
                )
            target = target[key]
        return resolve_references(target, config, depth + 1)
    if isinstance(value, YMap):
        out = YMap({k: resolve_references(v, config, depth) for k, v in value.items()})
        out.path, out.line, out.key_lines = value.path, value.line, value.key_lines
        return out
    if isinstance(value, list):
        items: list[Any] = []
        for item in value:
            resolved = resolve_references(item, config, depth)
            if isinstance(item, Reference) and isinstance(resolved, list):
                items.extend(resolved)
            else:
                items.append(resolved)
        seq = YSeq(items)
        if isinstance(value, YSeq):
            seq.path, seq.line = value.path, value.line
        return seq
    return value
