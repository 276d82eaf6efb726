"""Which files a scan reads: walking the tree, skipping what is not source.

A git work tree is listed with ``git ls-files`` (tracked plus untracked files
that ``.gitignore`` does not ignore); other directories are walked. Either way
the default skip list (``.git``, ``node_modules``, virtualenvs, caches,
vendored copies) applies unless ``all_files`` is set, and ``exclude`` globs
(matched against the relative path and each of its parts) drop more.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from opsforge.security.report import Problem

__all__ = [
    "DEFAULT_SKIP_DIRS",
    "SourceFile",
    "TextRead",
    "list_files",
    "read_text",
]

DEFAULT_SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".eggs",
        "vendor",
        "_vendor",
        "bower_components",
    }
)

#: Extensions that are never text worth scanning; skipped without reading.
BINARY_SUFFIXES = frozenset(
    [
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".bmp",
        ".ico",
        ".webp",
        ".tif",
        ".tiff",
        ".pdf",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".zst",
        ".7z",
        ".tar",
        ".whl",
        ".egg",
        ".jar",
        ".war",
        ".class",
        ".so",
        ".dylib",
        ".dll",
        ".exe",
        ".o",
        ".a",
        ".lib",
        ".pyc",
        ".pyo",
        ".pyd",
        ".bin",
        ".dat",
        ".db",
        ".sqlite",
        ".sqlite3",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
        ".mp3",
        ".mp4",
        ".wav",
        ".ogg",
        ".avi",
        ".mov",
        ".mkv",
        ".iso",
        ".img",
        ".npy",
        ".npz",
        ".pkl",
        ".pickle",
        ".parquet",
        ".onnx",
        ".pt",
        ".h5",
    ]
)


@dataclass(frozen=True)
class SourceFile:
    """A file to scan: absolute ``path``, ``rel`` (POSIX, relative to the root), size."""

    path: str
    rel: str
    size: int


@dataclass(frozen=True)
class TextRead:
    """The text of a file, or why there is none (``problem``; ``binary`` when skipped)."""

    text: str | None
    problem: Problem | None = None
    binary: bool = False


def is_skipped(rel: str, skip_dirs: frozenset[str], exclude: tuple[str, ...]) -> bool:
    parts = rel.split("/")
    if any(part in skip_dirs for part in parts[:-1]):
        return True
    for pattern in exclude:
        if fnmatch.fnmatch(rel, pattern) or any(fnmatch.fnmatch(p, pattern) for p in parts):
            return True
    return False


def _git_listing(root: Path) -> list[str] | None:
    """Files of a git work tree rooted at or above ``root`` (relative to ``root``)."""
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    names = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    return sorted({name for name in names if name})


def _walk(root: Path, skip_dirs: frozenset[str], problems: list[Problem]) -> Iterator[str]:
    def on_error(error: OSError) -> None:
        where = os.path.relpath(error.filename, root) if error.filename else str(root)
        problems.append(Problem(f"cannot list directory: {error.strerror}", path=where))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        dirnames[:] = sorted(d for d in dirnames if d not in skip_dirs)
        base = os.path.relpath(dirpath, root)
        for name in sorted(filenames):
            yield name if base == "." else f"{base}/{name}".replace(os.sep, "/")


def list_files(
    root: Path,
    *,
    exclude: Iterable[str] = (),
    all_files: bool = False,
    use_git: bool = True,
) -> tuple[list[SourceFile], list[Problem], dict[str, int]]:
    """The files under ``root`` to scan, the problems met listing them, and counts."""
    skip_dirs = frozenset() if all_files else DEFAULT_SKIP_DIRS
    excludes = tuple(exclude)
    problems: list[Problem] = []
    stats = {"files_skipped_binary": 0, "files_excluded": 0}
    if root.is_file():
        names: Iterable[str] = [root.name]
        root = root.parent
    else:
        listing = _git_listing(root) if use_git else None
        names = listing if listing is not None else _walk(root, skip_dirs, problems)
    files = []
    for rel in names:
        if is_skipped(rel, skip_dirs, excludes):
            stats["files_excluded"] += 1
            continue
        if os.path.splitext(rel)[1].lower() in BINARY_SUFFIXES:
            stats["files_skipped_binary"] += 1
            continue
        path = os.path.join(root, rel)
        try:
            info = os.stat(path)
        except OSError as exc:
            if not os.path.lexists(path):
                continue  # deleted from the work tree but still in git's index
            problems.append(Problem(f"cannot read: {exc.strerror}", path=rel))
            continue
        if not os.path.isfile(path):
            continue
        files.append(SourceFile(path=path, rel=rel, size=info.st_size))
    return files, problems, stats


def read_text(file: SourceFile, max_size: int) -> TextRead:
    """The file's text (UTF-8, undecodable bytes replaced), or the reason it is skipped."""
    if file.size > max_size:
        return TextRead(
            None,
            Problem(
                f"skipped: {file.size / 1048576:.1f} MiB is over the size limit "
                f"({max_size / 1048576:.1f} MiB; raise it with --max-file-size)",
                path=file.rel,
            ),
        )
    try:
        with open(file.path, "rb") as handle:
            data = handle.read(max_size + 1)
    except OSError as exc:
        return TextRead(None, Problem(f"cannot read: {exc.strerror or exc}", path=file.rel))
    if b"\0" in data[:8192]:
        return TextRead(None, binary=True)
    return TextRead(data.decode("utf-8", "replace"))
