"""git_info: commit, branch, tag, default branch and remote from a real repository."""

from __future__ import annotations

from pathlib import Path

from opsforge.pipelines.gitinfo import GitInfo, git_info

from .conftest import ProjectFactory, git


def test_branch_commit_and_defaults(project: ProjectFactory) -> None:
    root = project(files={"a.txt": "a"})
    info = git_info(root)
    assert info.sha == git(root, "rev-parse", "HEAD").strip()
    assert (info.branch, info.tag, info.message) == ("main", "", "initial commit")
    assert info.author == "t <t@example.invalid>"
    assert info.default_branch == "main"
    assert info.before_sha == "0" * 40
    assert info.remote_url == ""


def test_tag_detached_head_origin_head_and_remote(project: ProjectFactory, tmp_path: Path) -> None:
    root = project(files={"a.txt": "a"})
    first = git(root, "rev-parse", "HEAD").strip()
    (root / "b.txt").write_text("b")
    git(root, "add", "b.txt")
    git(root, "commit", "-q", "-m", "second\n\nbody line")
    git(root, "tag", "v1.2.0")
    git(root, "tag", "-a", "-m", "annotated", "v1.2.0-rc")
    git(root, "checkout", "-q", "--detach")
    git(root, "remote", "add", "origin", "https://gitlab.example.invalid/group/proj.git")
    git(root, "update-ref", "refs/remotes/origin/trunk", "HEAD")
    git(root, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk")
    info = git_info(root)
    assert info.branch == ""  # detached
    assert info.tag in {"v1.2.0", "v1.2.0-rc"}
    assert info.ref_name == info.tag
    assert info.message == "second\n\nbody line"
    assert info.before_sha == first
    assert info.default_branch == "trunk"
    assert info.remote_url == "https://gitlab.example.invalid/group/proj.git"


def test_no_repository_or_no_commit_is_empty(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert git_info(plain) == GitInfo()
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q", "-b", "main")
    assert git_info(empty) == GitInfo()
