"""Many FileState facts in one command answer exactly what they answer one by one."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from opsforge.deploy.facts.files import CONTENT_LIMIT, FileState
from opsforge.deploy.facts.files_batch import batch_command, batch_parse


def sh(command: str) -> tuple[str, int]:
    proc = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=False)
    return proc.stdout, proc.returncode


@pytest.fixture
def tree(tmp_path: Path) -> list[str]:
    (tmp_path / "dir with space").mkdir()
    (tmp_path / "plain.txt").write_text("hello\n")
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "binary").write_bytes(bytes(range(256)) * 3)
    (tmp_path / "big").write_bytes(b"x" * (CONTENT_LIMIT + 1))
    (tmp_path / "quote's\nnewline").write_text("odd name\n")
    (tmp_path / "ünïcode").write_text("u\n")
    os.symlink("plain.txt", tmp_path / "link")
    os.symlink("nowhere", tmp_path / "dangling")
    os.symlink("dir with space", tmp_path / "dirlink")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "mode").write_text("m")
    (tmp_path / "mode").chmod(0o4751)
    names = [
        "dir with space",
        "plain.txt",
        "empty",
        "binary",
        "big",
        "quote's\nnewline",
        "ünïcode",
        "link",
        "dangling",
        "dirlink",
        "fifo",
        "mode",
        "absent",
        "dir with space/x",
    ]
    return [str(tmp_path / name) for name in names]


@pytest.mark.parametrize("content", [False, True])
def test_batch_equals_one_by_one(tree: list[str], content: bool) -> None:
    facts = [FileState(path, content=content) for path in tree]
    single = []
    for fact in facts:
        out, code = sh(fact.command())
        single.append(fact.parse(out, code))
    out, code = sh(batch_command(facts, CONTENT_LIMIT))
    assert batch_parse(facts, out, code, CONTENT_LIMIT) == single


def test_mixed_content_flags_for_one_path(tree: list[str]) -> None:
    facts = [FileState(tree[1], content=True), FileState(tree[1]), FileState(tree[3], content=True)]
    out, code = sh(batch_command(facts, CONTENT_LIMIT))
    values = batch_parse(facts, out, code, CONTENT_LIMIT)
    assert values[0] is not None
    assert values[0].content == b"hello\n"
    assert values[1] is not None
    assert values[1].content is None
    assert values[2] is not None
    assert values[2].content == bytes(range(256)) * 3


def test_truncated_output_is_a_parse_error(tree: list[str]) -> None:
    facts = [FileState(path) for path in tree[:3]]
    out, code = sh(batch_command(facts, CONTENT_LIMIT))
    with pytest.raises(ValueError, match="incomplete"):
        batch_parse(facts, out.split("--sha")[0], code, CONTENT_LIMIT)
