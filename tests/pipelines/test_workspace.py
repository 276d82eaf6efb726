"""Isolated job workdirs: hardlinks to one snapshot per run, built from the project's files."""

from __future__ import annotations

import os
from pathlib import Path

from opsforge.pipelines.workspace import Workspace

from .conftest import ProjectFactory


def test_job_dirs_link_the_snapshot_with_nested_dirs_and_symlinks(
    project: ProjectFactory, tmp_path: Path
) -> None:
    root = project(
        files={
            "README.md": "top\n",
            "src/pkg/deep/mod.py": "x = 1\n",
            ".gitignore": "build/\n",
        }
    )
    (root / "src" / "link.py").symlink_to("pkg/deep/mod.py")
    (root / "untracked.txt").write_text("not yet added\n")  # untracked, not ignored: kept
    (root / "build").mkdir()
    (root / "build" / "out.bin").write_text("ignored\n")  # ignored: left out
    (root / "tool.sh").write_text("#!/bin/sh\n")
    (root / "tool.sh").chmod(0o755)
    workspace = Workspace(root, tmp_path / "run", in_place=False)
    first = workspace.job_dir("job one")
    second = workspace.job_dir("job/two")
    for workdir in (first, second):
        assert (workdir / "src/pkg/deep/mod.py").read_text() == "x = 1\n"
        assert os.readlink(workdir / "src/link.py") == "pkg/deep/mod.py"
        assert (workdir / "src/link.py").read_text() == "x = 1\n"
        assert (workdir / "untracked.txt").exists()
        assert not (workdir / "build").exists()
        assert not (workdir / ".git").exists()
        assert os.access(workdir / "tool.sh", os.X_OK)
    # the two trees share the snapshot's inodes (no copy per job), never the user's file
    assert (first / "README.md").stat().st_ino == (second / "README.md").stat().st_ino
    assert (first / "README.md").stat().st_ino != (root / "README.md").stat().st_ino
    # a fresh tree each time the same job asks again (a retry)
    (first / "left-over").write_text("from attempt 1")
    again = workspace.job_dir("job one")
    assert again == first
    assert not (again / "left-over").exists()


def test_in_place_is_the_project_itself(project: ProjectFactory, tmp_path: Path) -> None:
    root = project(files={"a.txt": "a"})
    assert Workspace(root, tmp_path / "run", in_place=True).job_dir("x") == root
