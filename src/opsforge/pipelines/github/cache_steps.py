"""Key-addressed caches as built-in step types, for GitHub ``actions/cache`` and
CircleCI ``save_cache``/``restore_cache``.

``cache_restore`` params ``key``, ``restore_keys`` (prefixes, tried in order: the newest
cache whose key starts with one wins) and ``paths``; it writes ``cache-hit`` (``true``
only for the exact key) and ``cache-matched-key`` to ``GITHUB_OUTPUT`` when the job has
one. ``cache_save`` params ``key`` and ``paths``: an existing key is never overwritten
(caches are immutable, as in both systems). Paths are globs relative to the workdir,
or absolute / ``~`` directories (kept under ``__abs__`` in the entry).

An entry lives in ``<cache dir>/keyed/<sha256 of key>/`` as ``key`` (the text) and
``files/`` (the tree), written to a temporary name and renamed into place.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import uuid
from pathlib import Path

from opsforge.pipelines.files import copy_tree, match_files, store_files
from opsforge.pipelines.steps import StepCall, register_step_type

__all__ = ["find_entry", "restore", "save"]


def _entries(cache_dir: Path) -> Path:
    return cache_dir / "keyed"


def _entry(cache_dir: Path, key: str) -> Path:
    return _entries(cache_dir) / hashlib.sha256(key.encode()).hexdigest()[:32]


def find_entry(cache_dir: Path, key: str, prefixes: list[str]) -> tuple[Path, str] | None:
    """The entry for ``key`` exactly, else the newest whose key starts with a prefix."""
    exact = _entry(cache_dir, key)
    if (exact / "key").is_file():
        return exact, key
    known: list[tuple[float, str, Path]] = []
    for entry in _entries(cache_dir).glob("*"):
        key_file = entry / "key"
        if key_file.is_file():
            known.append((key_file.stat().st_mtime, key_file.read_text(encoding="utf-8"), entry))
    known.sort(reverse=True)
    for prefix in prefixes:
        for _, found_key, entry in known:
            if found_key.startswith(prefix):
                return entry, found_key
    return None


def _split(paths: list[str]) -> tuple[list[str], list[Path]]:
    relative, absolute = [], []
    for path in paths:
        expanded = os.path.expanduser(path)
        if os.path.isabs(expanded):
            absolute.append(Path(expanded))
        else:
            relative.append(path)
    return relative, absolute


def save(cache_dir: Path, key: str, paths: list[str], workdir: Path) -> int | None:
    """Store ``paths`` under ``key``; None when the key exists already; the file count."""
    dest = _entry(cache_dir, key)
    if (dest / "key").is_file():
        return None
    relative, absolute = _split(paths)
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")
    count = store_files(workdir, match_files(workdir, relative), tmp / "files")
    for directory in absolute:
        if directory.is_dir():
            count += copy_tree(directory, tmp / "files" / "__abs__" / str(directory).lstrip("/"))
    (tmp / "files").mkdir(parents=True, exist_ok=True)
    (tmp / "key").write_text(key, encoding="utf-8")
    try:
        tmp.rename(dest)
    except OSError:  # another job saved the same key first
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    return count


def restore(entry: Path, workdir: Path) -> int:
    """Copy an entry's files back: relative ones into ``workdir``, ``__abs__`` to ``/``."""
    files = entry / "files"
    count = 0
    for child in files.iterdir() if files.is_dir() else ():
        if child.name == "__abs__":
            for top in child.iterdir():
                count += copy_tree(top, Path("/") / top.name)
        elif child.is_dir():
            count += copy_tree(child, workdir / child.name)
        else:
            count += store_files(files, [child.name], workdir)
    return count


def _lines(value: object) -> list[str]:
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip()]
    return [str(v) for v in value] if isinstance(value, list | tuple) else []


def _output(call: StepCall, **values: str) -> None:
    target = call.env.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.writelines(f"{k}={v}\n" for k, v in values.items())


def _key(call: StepCall, what: str) -> str:
    key = str(call.param("key") or "")
    if not key:
        call.log.note(f"cache {what}: the key is empty")
    return key


async def _restore_step(call: StepCall) -> int:
    if not (key := _key(call, "restore")):
        return 1
    found = await asyncio.to_thread(
        find_entry, call.state.cache_dir, key, _lines(call.param("restore_keys"))
    )
    if found is None:
        call.log.note(f"cache not found for key {key}")
        _output(call, **{"cache-hit": "false", "cache-matched-key": ""})
        return 0
    entry, matched = found
    count = await asyncio.to_thread(restore, entry, call.workdir)
    call.log.note(f"cache restored from key {matched} ({count} files)")
    _output(
        call, **{"cache-hit": "true" if matched == key else "false", "cache-matched-key": matched}
    )
    return 0


async def _save_step(call: StepCall) -> int:
    if not (key := _key(call, "save")):
        return 1
    count = await asyncio.to_thread(
        save, call.state.cache_dir, key, _lines(call.param("paths")), call.workdir
    )
    if count is None:
        call.log.note(f"cache key {key} exists already; not saved again")
    else:
        call.log.note(f"cache saved with key {key} ({count} files)")
    return 0


register_step_type("cache_restore", _restore_step)
register_step_type("cache_save", _save_step)
