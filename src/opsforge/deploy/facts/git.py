"""The git checkout fact: what is at a destination (HEAD commit, branch, origin URL,
local modifications) and, only when a plan needs it, what a branch or tag names on
the remote (``git ls-remote``).

The remote is asked when the version is not a full commit id and either there is
nothing at the destination yet or the checkout may be updated. Git never prompts:
``GIT_TERMINAL_PROMPT=0``, ssh in batch mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from opsforge.deploy.commands import quote
from opsforge.deploy.facts.base import Fact

__all__ = ["FULL_SHA", "GitCheckout", "GitInfo", "RemoteRef", "git_env"]

FULL_SHA = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")


def git_env(accept_hostkey: bool = False, key_file: str | None = None) -> str:
    """``VAR=value`` words that keep git from prompting (shell text)."""
    ssh = ["ssh", "-o", "BatchMode=yes"]
    if accept_hostkey:
        ssh += ["-o", "StrictHostKeyChecking=accept-new"]
    if key_file:
        ssh += ["-i", quote(key_file), "-o", "IdentitiesOnly=yes"]
    return f"GIT_TERMINAL_PROMPT=0 GIT_SSH_COMMAND={quote(' '.join(ssh))}"


@dataclass(frozen=True, slots=True)
class RemoteRef:
    """What a version names on the remote: ``kind`` branch, tag or commit (the remote's
    HEAD when it is detached), ``name`` the branch or tag, ``commit`` its commit id;
    ``kind`` none: no such branch or tag."""

    kind: str
    name: str = ""
    commit: str = ""


@dataclass(frozen=True, slots=True)
class GitInfo:
    """``state``: absent, empty (an empty directory), notrepo, repo, or nogit (no git)."""

    state: str
    head: str = ""
    branch: str = ""  # "" when detached
    remote_url: str = ""
    dirty: bool = False
    remote: RemoteRef | None = None  # None: the remote was not asked
    remote_error: str = ""


_SCRIPT = """\
export LC_ALL=C {env}
command -v git >/dev/null 2>&1 || {{ echo nogit; exit 0; }}
d={dest}
if [ -e "$d/.git" ]; then
  echo repo
  echo "head $(git -C "$d" rev-parse -q --verify HEAD 2>/dev/null)"
  echo "branch $(git -C "$d" symbolic-ref -q --short HEAD 2>/dev/null)"
  echo "url $(git -C "$d" config --get remote.origin.url 2>/dev/null)"
  m=$(git -C "$d" status --porcelain --untracked-files=no 2>/dev/null | head -n 1)
  echo "dirty ${{m:+1}}"
  ask={ask_existing}
elif [ -e "$d" ]; then
  if [ -d "$d" ] && [ -z "$(ls -A -- "$d" 2>/dev/null)" ]; then echo empty; else echo notrepo; fi
  ask={ask_new}
else
  echo absent
  ask={ask_new}
fi
if [ "$ask" = yes ]; then
  echo ls-remote
  r=0; git ls-remote --symref {repo} {patterns} 2>&1 </dev/null || r=$?
  echo "ls-exit $r"
fi"""


def _pick(version: str, refs: dict[str, str], head_branch: str) -> RemoteRef:
    if version == "HEAD":
        if "HEAD" not in refs:
            return RemoteRef("none")
        if head_branch:
            return RemoteRef("branch", head_branch, refs["HEAD"])
        return RemoteRef("commit", "HEAD", refs["HEAD"])
    if f"refs/heads/{version}" in refs:
        return RemoteRef("branch", version, refs[f"refs/heads/{version}"])
    for ref in (f"refs/tags/{version}^{{}}", f"refs/tags/{version}"):
        if ref in refs:
            return RemoteRef("tag", version, refs[ref])
    return RemoteRef("none")


@dataclass(frozen=True, slots=True)
class GitCheckout(Fact[GitInfo]):
    """The checkout at ``dest``; ``repo``/``version`` resolved on the remote when needed."""

    dest: str
    repo: str
    version: str = "HEAD"
    update: bool = True
    accept_hostkey: bool = False
    key_file: str | None = None

    name: ClassVar[str] = "git checkout"

    def _asks(self) -> bool:
        return not FULL_SHA.match(self.version)

    def command(self) -> str:
        asks = self._asks()
        if self.version == "HEAD":
            patterns = "HEAD"
        else:
            patterns = f"{quote(self.version)} {quote(self.version + '^{}')}"
        return _SCRIPT.format(
            env=git_env(self.accept_hostkey, self.key_file),
            dest=quote(self.dest),
            repo=quote(self.repo),
            patterns=patterns,
            ask_existing="yes" if asks and self.update else "no",
            ask_new="yes" if asks else "no",
        )

    def parse(self, output: str, exit_code: int) -> GitInfo:
        lines = output.split("\n")
        state = lines[0].strip() if lines else ""
        if state not in ("absent", "empty", "notrepo", "repo", "nogit"):
            raise ValueError(f"expected absent, empty, notrepo, repo or nogit, got {state!r}")
        fields: dict[str, str] = {}
        index = 1
        while index < len(lines) and lines[index] != "ls-remote":
            key, _, value = lines[index].partition(" ")
            if key:
                fields[key] = value.strip()
            index += 1
        if state == "repo" and "head" not in fields:
            raise ValueError("no head line for a checkout")
        remote: RemoteRef | None = None
        error = ""
        if index < len(lines):  # the remote was asked
            body = lines[index + 1 :]
            status = next((b for b in reversed(body) if b.startswith("ls-exit ")), "")
            if not status[8:].strip().isdigit():
                raise ValueError("no ls-remote exit status")
            text = body[: body.index(status)]
            if status[8:].strip() != "0":
                error = " ".join(t.strip() for t in text if t.strip())[:400] or "failed"
            else:
                refs: dict[str, str] = {}
                head_branch = ""
                for line in text:
                    left, tab, ref = line.partition("\t")
                    if not tab:
                        continue
                    if left.startswith("ref: ") and ref == "HEAD":
                        head_branch = left[5:].removeprefix("refs/heads/")
                    elif FULL_SHA.match(left):
                        refs[ref] = left
                remote = _pick(self.version, refs, head_branch)
        return GitInfo(
            state,
            head=fields.get("head", ""),
            branch=fields.get("branch", ""),
            remote_url=fields.get("url", ""),
            dirty=fields.get("dirty", "0").strip() not in ("", "0"),
            remote=remote,
            remote_error=error,
        )
