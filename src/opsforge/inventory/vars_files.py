"""``group_vars/`` and ``host_vars/`` next to an inventory, found the way Ansible finds them.

For a group or host ``NAME`` the first of ``NAME``, ``NAME.yml``, ``NAME.yaml``,
``NAME.json`` that exists is used; when it is a directory, every file in it
(recursively, sorted, hidden files and ``~`` backups skipped, only files with no
extension or a YAML/JSON one) is loaded in order, later files winning.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from opsforge.errors import InventoryError
from opsforge.inventory.builder import InventoryBuilder
from opsforge.inventory.group_tree import describe_type
from opsforge.inventory.model import VarOrigin
from opsforge.inventory.yaml_loader import key_line, load_yaml, node_line, plain, read_source

__all__ = ["load_vars_dirs"]

_EXTENSIONS = ("", ".yml", ".yaml", ".json")
_KINDS = ("group_vars", "host_vars")


def _listdir(folder: Path, display: Callable[[Path], str]) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError as exc:
        raise InventoryError(f"cannot list: {exc.strerror or exc}", path=display(folder)) from exc


def _dir_files(folder: Path, display: Callable[[Path], str]) -> list[Path]:
    found: list[Path] = []
    for entry in sorted(_listdir(folder, display)):
        if entry.startswith(".") or entry.endswith("~"):
            continue
        path = folder / entry
        extension = os.path.splitext(entry)[1]
        if path.is_dir() and not extension:
            found.extend(_dir_files(path, display))
        elif path.is_file() and extension in _EXTENSIONS:
            found.append(path)
    return found


def _load_file(builder: InventoryBuilder, kind: str, name: str, path: Path, display: str) -> None:
    data = load_yaml(read_source(path, display), display, json_first=path.suffix == ".json")
    if data is None:
        return
    if not isinstance(data, Mapping):
        raise InventoryError(
            f"a {kind} file must be a mapping of variable names, got {describe_type(data)}",
            path=display,
            line=node_line(data, 1),
        )
    scope = f"group {name!r}" if kind == "group_vars" else f"host {name!r}"
    for key, value in data.items():
        line = key_line(data, key)
        if not isinstance(key, str):
            raise InventoryError(
                f"variable names must be text, got {key!r}", path=display, line=line
            )
        origin = VarOrigin(scope, path=display, line=line)
        if kind == "group_vars":
            builder.set_group_var(name, key, plain(value), origin, layer="file")
        else:
            builder.set_host_var(name, key, plain(value), origin, layer="file")


def load_vars_dirs(
    builder: InventoryBuilder, base_dirs: Sequence[Path], display: Callable[[Path], str]
) -> None:
    """Load ``group_vars``/``host_vars`` under each base directory, in order, into ``builder``.

    Only groups and hosts the inventory already has are looked up, like Ansible.
    """
    for base in base_dirs:
        for kind in _KINDS:
            folder = base / kind
            if not folder.is_dir():
                continue
            entries = set(_listdir(folder, display))
            names = builder.group_names if kind == "group_vars" else builder.host_names
            for name in names:
                for extension in _EXTENSIONS:
                    if name + extension not in entries:
                        continue
                    path = folder / (name + extension)
                    files = _dir_files(path, display) if path.is_dir() else [path]
                    for file in files:
                        _load_file(builder, kind, name, file, display(file))
                    break
