"""What a pipeline needs to know from git: commit, branch, tag, message, changed files."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "GitInfo",
    "changed_files",
    "git_info",
    "prefetch_git_info",
    "run_git",
    "work_tree_root",
]


def run_git(root: Path, *args: str) -> str | None:
    """``git ARGS`` in ``root``: its stripped output, or None when git fails or is missing."""
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
    # %D: the refs at HEAD ("HEAD -> main, tag: v1.2, origin/main"): branch and tag at once
    "commit": ("log", "-1", "--format=%H%x00%P%x00%an <%ae>%x00%cI%x00%D%x00%B"),
    "refs": (
        "for-each-ref",
        "--format=%(refname)%00%(symref)",
        "refs/heads/main",
        "refs/heads/master",
        "refs/remotes/origin/HEAD",
    ),
    "remote": ("config", "--get", "remote.origin.url"),
}


_Procs = dict[str, "subprocess.Popen[str] | None"]
_STARTED: dict[Path, _Procs] = {}
_INFO: dict[Path, GitInfo] = {}


def prefetch_git_info(root: Path) -> None:
    """Start the git commands of :func:`git_info` now, so they run while the caller does
    other work (parsing, imports); :func:`git_info` collects them."""
    if root not in _INFO and root not in _STARTED:
        _STARTED[root] = _start_all(root)


def _start_all(root: Path) -> _Procs:
    procs: _Procs = {}
    for key, args in _QUERIES.items():
        try:
            procs[key] = subprocess.Popen(
                ["git", *args],
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        except OSError:
            procs[key] = None
    return procs


def _collect(procs: _Procs) -> dict[str, str | None]:
    """Each query's output (None where git failed)."""
    answers: dict[str, str | None] = {}
    for key, proc in procs.items():
        if proc is None:
            answers[key] = None
            continue
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            answers[key] = None
            continue
        answers[key] = out.strip() if proc.returncode == 0 else None
    return answers


def _branch_and_tag(decorations: str) -> tuple[str, str]:
    branch = tag = ""
    for ref in (r.strip() for r in decorations.split(",")):
        if ref.startswith("HEAD -> "):
            branch = ref.removeprefix("HEAD -> ")
        elif ref.startswith("tag: ") and not tag:
            tag = ref.removeprefix("tag: ")
    return branch, tag


def _default_branch(refs: str) -> str:
    """origin/HEAD's branch, else main or master when they exist."""
    heads = []
    for line in refs.splitlines():
        name, _, target = line.partition("\0")
        if name == "refs/remotes/origin/HEAD" and target:
            return target.removeprefix("refs/remotes/origin/")
        if name.startswith("refs/heads/"):
            heads.append(name.removeprefix("refs/heads/"))
    return "main" if "main" in heads else (heads[0] if heads else "")


def git_info(root: Path) -> GitInfo:
    """Everything at once: three git commands, run concurrently (once per root)."""
    if root not in _INFO:
        _INFO[root] = _parse(_collect(_STARTED.pop(root) if root in _STARTED else _start_all(root)))
    return _INFO[root]


def work_tree_root(start: Path) -> Path | None:
    """The git work tree holding ``start``: the nearest directory with a ``.git`` entry
    (a directory, or the file of a linked worktree or submodule). When ``GIT_DIR`` or
    ``GIT_WORK_TREE`` is set, git itself is asked."""
    if "GIT_DIR" in os.environ or "GIT_WORK_TREE" in os.environ:
        top = run_git(start, "rev-parse", "--show-toplevel")
        return Path(top) if top else None
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def _parse(answers: dict[str, str | None]) -> GitInfo:
    commit = answers["commit"]
    if commit is None:
        return GitInfo()
    sha, parents, author, timestamp, decorations, message = (commit.split("\0") + [""] * 6)[:6]
    branch, tag = _branch_and_tag(decorations)
    default = _default_branch(answers["refs"] or "")
    return GitInfo(
        sha=sha,
        branch=branch,
        tag=tag,
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
    merge_base = run_git(root, "merge-base", ref, "HEAD") if base else None
    diff = run_git(root, "diff", "--name-only", merge_base or ref)
    if diff is None:
        return None
    untracked = run_git(root, "ls-files", "--others", "--exclude-standard") or ""
    names = [n for n in (*diff.splitlines(), *untracked.splitlines()) if n]
    return sorted(set(names))
