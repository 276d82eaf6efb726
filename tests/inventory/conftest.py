"""Shared fixtures for inventory tests: write a tree of files, load it."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

WriteTree = Callable[[Mapping[str, str]], Path]


def write_files(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``{relative path: text}`` under ``root``; a path ending in ``/`` is a folder."""
    for name, text in files.items():
        path = root / name
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def write_tree(tmp_path: Path) -> WriteTree:
    def write(files: Mapping[str, str]) -> Path:
        return write_files(tmp_path, files)

    return write
