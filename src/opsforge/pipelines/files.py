"""Globbing and copying file trees for artifacts and caches (paths relative to a workdir)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path

__all__ = ["copy_tree", "match_files", "replace_tree", "store_files"]


def _expand(workdir: Path, pattern: str) -> set[Path]:
    pattern = pattern.strip().removeprefix("./")
    if not pattern:
        return set()
    if os.path.isabs(pattern):
        try:
            pattern = str(Path(pattern).relative_to(workdir))
        except ValueError:
            return set()
    found: set[Path] = set()
    for path in workdir.glob(pattern):
        if path.is_dir() and not path.is_symlink():
            found.update(p for p in path.rglob("*") if p.is_file() or p.is_symlink())
        elif path.is_file() or path.is_symlink():
            found.add(path)
    return found


def match_files(workdir: Path, paths: Iterable[str], exclude: Iterable[str] = ()) -> list[str]:
    """Relative paths of files matched by ``paths`` (files, dirs, ``*``/``**`` globs)
    minus those matched by ``exclude``, sorted; nothing outside ``workdir``."""
    chosen: set[Path] = set()
    for pattern in paths:
        chosen |= _expand(workdir, pattern)
    for pattern in exclude:
        chosen -= _expand(workdir, pattern)
    root = workdir.resolve()
    rels: list[str] = []
    for path in chosen:
        try:
            path.resolve().relative_to(root) if not path.is_symlink() else None
        except ValueError:
            continue
        rels.append(str(path.relative_to(workdir)))
    return sorted(rels)


def store_files(workdir: Path, rels: Iterable[str], dest: Path) -> int:
    """Copy the files ``rels`` of ``workdir`` under ``dest`` (same layout); count them."""
    count = 0
    for rel in rels:
        src = workdir / rel
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            if target.is_symlink() or target.exists():
                target.unlink()
            os.symlink(os.readlink(src), target)
        else:
            shutil.copy2(src, target)
        count += 1
    return count


def copy_tree(src: Path, dest: Path) -> int:
    """Copy every file of ``src`` into ``dest`` (merging, overwriting); count them."""
    if not src.is_dir():
        return 0
    rels = [str(p.relative_to(src)) for p in src.rglob("*") if p.is_file() or p.is_symlink()]
    return store_files(src, rels, dest)


def replace_tree(workdir: Path, rels: Iterable[str], dest: Path) -> int:
    """Store ``rels`` as the new content of ``dest``, atomically (rename over the old one)."""
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")
    count = store_files(workdir, rels, tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.old")
        dest.rename(old)
    tmp.rename(dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return count
