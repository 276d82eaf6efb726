"""What a pipeline needs to know from git: commit, branch, tag, message, changed files."""

from __future__ import annotations

import functools
import subprocess
from concurrent.futures import ThreadPoolExecutor
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


_QUERIES = {
    "commit": ("log", "-1", "--format=%H%x00%P%x00%an <%ae>%x00%cI%x00%B"),
    "branch": ("symbolic-ref", "--short", "-q", "HEAD"),
    "tag": ("describe", "--tags", "--exact-match", "HEAD"),
    "origin_head": ("symbolic-ref", "--short", "-q", "refs/remotes/origin/HEAD"),
    "heads": ("for-each-ref", "--format=%(refname:short)", "refs/heads/main", "refs/heads/master"),
    "remote": ("config", "--get", "remote.origin.url"),
}


@functools.cache
def git_info(root: Path) -> GitInfo:
    """Everything at once: the git commands run concurrently (each is a process)."""
    with ThreadPoolExecutor(max_workers=len(_QUERIES)) as pool:
        futures = {key: pool.submit(_git, root, *args) for key, args in _QUERIES.items()}
        answers = {key: future.result() for key, future in futures.items()}
    commit = answers["commit"]
    if commit is None:
        return GitInfo()
    sha, parents, author, timestamp, message = (commit.split("\0") + [""] * 5)[:5]
    branch = answers["branch"] or ""
    default = (answers["origin_head"] or "").split("/", 1)[-1]
    if not default:
        heads = (answers["heads"] or "").split()
        default = heads[0] if heads else ""
    return GitInfo(
        sha=sha,
        branch=branch,
        tag=answers["tag"] or "",
        message=message.strip(),
        author=author,
        timestamp=timestamp,
        default_branch=default or branch or "main",
        remote_url=answers["remote"] or "",
        before_sha=parents.split()[0] if parents.split() else "0" * 40,
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
