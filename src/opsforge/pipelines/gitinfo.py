"""What a pipeline needs to know from git: commit, branch, tag, message, changed files."""

from __future__ import annotations

import functools
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GitInfo", "changed_files", "git_info"]


def _git(root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


@dataclass(frozen=True, slots=True)
class GitInfo:
    """Empty strings where git (or a repository) is missing."""

    sha: str = ""
    branch: str = ""
    tag: str = ""
    message: str = ""
    author: str = ""
    timestamp: str = ""
    default_branch: str = "main"
    remote_url: str = ""
    before_sha: str = ""

    @property
    def ref_name(self) -> str:
        return self.tag or self.branch


@functools.cache
def git_info(root: Path) -> GitInfo:
    if _git(root, "rev-parse", "--is-inside-work-tree") != "true":
        return GitInfo()
    branch = _git(root, "symbolic-ref", "--short", "-q", "HEAD") or ""
    tag = _git(root, "describe", "--tags", "--exact-match", "HEAD") or ""
    default = ""
    head = _git(root, "symbolic-ref", "--short", "-q", "refs/remotes/origin/HEAD")
    if head:
        default = head.split("/", 1)[-1]
    if not default:
        for candidate in ("main", "master"):
            if _git(root, "rev-parse", "--verify", "-q", f"refs/heads/{candidate}"):
                default = candidate
                break
    return GitInfo(
        sha=_git(root, "rev-parse", "HEAD") or "",
        branch=branch,
        tag=tag,
        message=_git(root, "log", "-1", "--format=%B") or "",
        author=_git(root, "log", "-1", "--format=%an <%ae>") or "",
        timestamp=_git(root, "log", "-1", "--format=%cI") or "",
        default_branch=default or branch or "main",
        remote_url=_git(root, "remote", "get-url", "origin") or "",
        before_sha=_git(root, "rev-parse", "HEAD~1") or "0" * 40,
    )


def changed_files(root: Path, base: str | None) -> list[str] | None:
    """Files changed between ``base`` (default: HEAD~1) and the work tree, plus untracked
    files; None when git cannot tell (then ``changes:`` rules are true, as GitLab does
    for pipelines without a base)."""
    ref = base or "HEAD~1"
    merge_base = _git(root, "merge-base", ref, "HEAD") if base else None
    diff = _git(root, "diff", "--name-only", merge_base or ref)
    if diff is None:
        return None
    untracked = _git(root, "ls-files", "--others", "--exclude-standard") or ""
    names = [n for n in (*diff.splitlines(), *untracked.splitlines()) if n]
    return sorted(set(names))
