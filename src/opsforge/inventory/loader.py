"""``load_inventory``: turn ``-i`` sources into one :class:`Inventory`.

A source is a file (INI, YAML/JSON, or Python), a directory of such files, or a
comma-separated host list. Sources merge in order; for the same variable at the
same precedence level the later source wins. ``group_vars/`` and ``host_vars/``
are read next to each file source and inside each directory source.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from opsforge.errors import InventoryError
from opsforge.inventory.builder import InventoryBuilder
from opsforge.inventory.group_tree import GroupTreeReader
from opsforge.inventory.host_list import LOCAL_HOST, parse_host_list
from opsforge.inventory.ini import parse_ini
from opsforge.inventory.inventory import Inventory
from opsforge.inventory.python_source import load_python_inventory
from opsforge.inventory.vars_files import load_vars_dirs
from opsforge.inventory.yaml_loader import VAULT_SECRETS, load_yaml, read_source
from opsforge.vault import VaultSecrets

__all__ = ["load_inventory"]

_YAML_SUFFIXES = frozenset({".yml", ".yaml", ".json"})
#: Files a directory source skips, as Ansible's INVENTORY_IGNORE_EXTS does.
_IGNORED_SUFFIXES = (
    "~",
    ".orig",
    ".retry",
    ".cfg",
    ".pyc",
    ".pyo",
    ".swp",
    ".bak",
    ".rpm",
    ".md",
    ".txt",
    ".rst",
)
_IGNORED_NAMES = frozenset({"group_vars", "host_vars", "vars_plugins", "__pycache__"})
#: The first meaningful line of a YAML inventory: ``all:``, ``---``, ``{``.
_YAML_START = re.compile(r"^(?:---|\{|[^\s#;\[=:]+:\s*(?:#.*)?$)")


class _Loader:
    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.builder = InventoryBuilder()
        self.base_dirs: list[Path] = []

    def display(self, path: Path) -> str:
        """A path as the user will recognise it: relative to ``cwd`` when inside it."""
        try:
            return str(path.relative_to(self.cwd))
        except ValueError:
            return str(path)

    def source(self, source: str) -> None:
        text = source.strip()
        if not text:
            raise InventoryError("empty inventory source")
        path = self.cwd / os.path.expanduser(text)
        kind = _kind(path)
        if kind == "dir":
            self.directory(path)
            self.base_dirs.append(path)
        elif kind == "file":
            self.file(path)
            self.base_dirs.append(path.parent)
        elif "," in text or text == LOCAL_HOST:
            parse_host_list(text, self.builder)
        else:
            hint = "" if os.sep in text else f" (for a single host, add a comma: '{text},')"
            raise InventoryError(f"no such inventory file or directory{hint}", path=text)

    def directory(self, folder: Path) -> None:
        try:
            entries = sorted(os.listdir(folder))
        except OSError as exc:
            raise InventoryError(
                f"cannot list: {exc.strerror or exc}", path=self.display(folder)
            ) from exc
        for entry in entries:
            if (
                entry.startswith(".")
                or entry in _IGNORED_NAMES
                or entry.endswith(_IGNORED_SUFFIXES)
            ):
                continue
            path = folder / entry
            if path.is_dir():
                self.directory(path)
            elif path.is_file():
                self.file(path)

    def file(self, path: Path) -> None:
        display = self.display(path)
        suffix = path.suffix.lower()
        if suffix == ".py":
            load_python_inventory(path, display, self.builder)
            return
        text = read_source(path, display)
        if suffix in _YAML_SUFFIXES or (suffix != ".ini" and _looks_like_yaml(text)):
            data = load_yaml(text, display, json_first=suffix == ".json")
            GroupTreeReader(self.builder, display).read(data)
            return
        if text.startswith("#!") and os.access(path, os.X_OK):
            raise InventoryError(
                "executable inventory scripts are not supported; write a .py file "
                "defining inventory() instead",
                path=display,
                line=1,
            )
        parse_ini(text, display, self.builder)


def _kind(path: Path) -> str | None:
    """``dir``, ``file`` or None (missing, or not a possible path: a long host list)."""
    try:
        return "dir" if path.is_dir() else "file" if path.exists() else None
    except (OSError, ValueError):
        return None


def _looks_like_yaml(text: str) -> bool:
    for raw in text.splitlines():
        line = raw.strip()
        if line and line[0] not in "#;":
            return bool(_YAML_START.match(line))
    return False


def load_inventory(
    sources: Sequence[str],
    *,
    cwd: Path | None = None,
    vault: VaultSecrets | None = None,
    vars_dirs: Sequence[Path] = (),
) -> Inventory:
    """Load and merge inventory sources, like ``ansible -i SRC -i SRC …``.

    ``sources`` are paths (relative to ``cwd``, default the current directory),
    or host lists such as ``"web1,web2:2222,"`` and ``"@local"``. Raises
    :class:`~opsforge.errors.InventoryError` naming the file and line of any problem.
    ``vault`` decrypts vaulted files and ``!vault`` values (in memory, as ``Secret``).
    ``vars_dirs``: more directories whose ``group_vars``/``host_vars`` are read after the
    sources' own, so they win at the same level — Ansible's playbook directory.
    """
    if isinstance(sources, str):
        sources = [sources]
    token = VAULT_SECRETS.set(vault)
    try:
        loader = _Loader(Path(cwd).absolute() if cwd is not None else Path.cwd())
        for source in sources:
            loader.source(os.fspath(source))
        extra = [(loader.cwd / d).resolve() for d in vars_dirs]
        base_dirs = list(dict.fromkeys([*loader.base_dirs, *extra]))
        load_vars_dirs(loader.builder, base_dirs, loader.display)
        return loader.builder.build(cwd=loader.cwd, sources=tuple(sources))
    finally:
        VAULT_SECRETS.reset(token)
