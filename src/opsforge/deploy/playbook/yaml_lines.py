"""Playbook YAML with line numbers: every mapping knows its line and the line of each key.

Mappings load as :class:`LineDict` and sequences as :class:`LineList`, so every error
about a play, a task or one of their keys can name ``file:line``. A whole vaulted
file is decrypted in memory first; ``!vault`` values load as :class:`Secret`;
``!unsafe`` strings load as :class:`Unsafe` (never templated).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from opsforge.errors import InputError
from opsforge.vault import VaultSecrets, is_vaulted, vault_loader

__all__ = ["LineDict", "LineList", "Unsafe", "load_file", "load_text", "where"]


class LineDict(dict[Any, Any]):
    """A YAML mapping with the file, its own line and each key's line."""

    path: str = ""
    line: int = 0
    key_lines: dict[Any, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines = {}

    def at(self, key: Any = None) -> str:
        """``file:line`` of ``key`` (or of the mapping itself)."""
        line = self.key_lines.get(key, self.line) if key is not None else self.line
        return f"{self.path}:{line}"


class LineList(list[Any]):
    """A YAML sequence with its file and line."""

    path: str = ""
    line: int = 0

    def at(self) -> str:
        return f"{self.path}:{self.line}"


class Unsafe(str):
    """``!unsafe`` text: used as it is, never rendered as a template."""

    __slots__ = ()


def where(value: Any, key: Any = None, fallback: str = "") -> str:
    """``file:line`` of a loaded value (or of one of its keys), else ``fallback``."""
    if isinstance(value, LineDict):
        return value.at(key)
    if isinstance(value, LineList):
        return value.at()
    return fallback


def _loader(secrets: VaultSecrets, path: str) -> type[yaml.SafeLoader]:
    base = vault_loader(secrets, path=path)

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Iterator[LineDict]:
        data = LineDict()
        data.path, data.line = path, node.start_mark.line + 1
        yield data
        loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise InputError(
                    "a mapping key must be a plain value",
                    path=path,
                    line=key_node.start_mark.line + 1,
                ) from None
            data[key] = loader.construct_object(value_node, deep=True)
            data.key_lines[key] = key_node.start_mark.line + 1

    def sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> Iterator[LineList]:
        data = LineList()
        data.path, data.line = path, node.start_mark.line + 1
        yield data
        data.extend(loader.construct_object(child, deep=True) for child in node.value)

    def unsafe(loader: yaml.SafeLoader, node: yaml.Node) -> Unsafe:
        return Unsafe(loader.construct_scalar(node))  # type: ignore[arg-type]

    cls: type[yaml.SafeLoader] = type("PlaybookLoader", (base,), {})
    cls.add_constructor("tag:yaml.org,2002:map", mapping)
    cls.add_constructor("tag:yaml.org,2002:seq", sequence)
    cls.add_constructor("!unsafe", unsafe)
    return cls


def load_text(data: bytes | str, secrets: VaultSecrets, path: str) -> Any:
    """Parse YAML text (maybe a whole vaulted file) from ``path``."""
    if is_vaulted(data):
        data = secrets.decrypt_bytes(data, path=path, line=1)
    try:
        return yaml.load(data, Loader=_loader(secrets, path))  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(
            f"YAML syntax error: {problem}", path=path, line=mark.line + 1 if mark else None
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML: {exc}", path=path) from None


def load_file(path: str | os.PathLike[str], secrets: VaultSecrets) -> Any:
    """Read and parse a YAML file; the path shown in errors is as given."""
    name = os.fspath(path)
    try:
        data = Path(name).read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", path=name) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=name) from None
    return load_text(data, secrets, name)
