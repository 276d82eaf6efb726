"""git: a checkout of a repository at a branch, tag or commit (Ansible's ``git``, pyinfra's
``git.repo``).

::

    from opsforge.deploy.operations import git

    def deploy(host):
        git.git(host, "https://example.com/app.git", "/srv/app", version="v1.4.2")

Nothing at ``dest`` (or an empty directory): a clone. A checkout already at the
commit the version names on the remote: a no-op (the remote is asked with
``git ls-remote``, unless the version is a full commit id). Otherwise: fetch that
ref and check it out (a branch is reset to the remote's commit; a tag or commit is
checked out detached). Local modifications to tracked files stop the update unless
``force=True`` discards them. ``update=False`` leaves an existing checkout alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from opsforge.deploy.commands import Command, quote
from opsforge.deploy.context import Declared, HostContext
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.git import FULL_SHA, GitCheckout, GitInfo, RemoteRef, git_env
from opsforge.deploy.operation import Change, DiffItem, Operation, PlanEnv
from opsforge.deploy.operations.files_attrs import check_path
from opsforge.errors import InputError, PlanError

__all__ = ["Git", "git"]

_SHORT_SHA = re.compile(r"^[0-9a-f]{7,39}$")
_REF = re.compile(r"^(?!-)(?!.*\.\.)[^\s~^:?*\[\\]+$")


def _short(commit: str) -> str:
    return commit[:12]


@dataclass(frozen=True)
class Git(Operation):
    repo: str
    dest: str
    version: str = "HEAD"
    force: bool = False
    depth: int | None = None
    update: bool = True
    recursive: bool = True
    accept_hostkey: bool = False
    key_file: str | None = None

    kind: ClassVar[str] = "git.git"

    def __post_init__(self) -> None:
        if not self.repo or "\n" in self.repo or self.repo.startswith("-"):
            raise InputError(f"git: bad repo {self.repo!r}")
        object.__setattr__(self, "dest", check_path(self.dest, "git: dest"))
        if not _REF.match(self.version):
            raise InputError(f"git: {self.version!r} is not a branch, tag or commit")
        if self.depth is not None and (isinstance(self.depth, bool) or self.depth < 1):
            raise InputError("git: depth must be a positive number")

    def describe(self) -> str:
        return f"git {self.repo} -> {self.dest} ({self.version})"

    def _fact(self) -> GitCheckout:
        return GitCheckout(
            self.dest, self.repo, self.version, self.update, self.accept_hostkey, self.key_file
        )

    def facts(self) -> tuple[Fact[Any], ...]:
        return (self._fact(),)

    def _git(self, *words: str, network: bool = False) -> Command:
        line = " ".join(["git", "-C", quote(self.dest), *words])
        if network:
            line = f"{git_env(self.accept_hostkey, self.key_file)} {line}"
        return Command(line)

    def _target(self, info: GitInfo, env: PlanEnv) -> RemoteRef:
        if FULL_SHA.match(self.version):
            return RemoteRef("commit", self.version, self.version)
        if info.remote_error:
            raise PlanError(
                f"git: cannot read {self.repo} (git ls-remote): {info.remote_error}",
                host=env.host,
            )
        remote = info.remote
        if remote is None:  # not asked: cannot happen for a version that needs it
            raise PlanError(f"git: {self.version} was not looked up on the remote", host=env.host)
        if remote.kind != "none":
            return remote
        if _SHORT_SHA.match(self.version):
            return RemoteRef("commit", self.version, self.version)  # a commit id prefix
        raise PlanError(f"git: no branch or tag {self.version} in {self.repo}", host=env.host)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        info = facts.get(self._fact())
        if info.state == "nogit":
            raise PlanError("git: no git on the host", host=env.host)
        if info.state == "notrepo":
            raise PlanError(
                f"git: {self.dest} exists and is not a git checkout (nor an empty directory)",
                host=env.host,
            )
        if info.state in ("absent", "empty"):
            return self._clone(self._target(info, env))
        if not self.update:
            return Change.noop(f"{self.dest} is a checkout at {_short(info.head)} (update=False)")
        target = self._target(info, env)
        at_ref = info.head.startswith(target.commit) if target.commit else False
        actions: list[Command] = []
        diff: list[DiffItem] = []
        if info.remote_url != self.repo:
            verb = "set-url" if info.remote_url else "add"
            actions.append(self._git("remote", verb, "origin", quote(self.repo)))
            diff.append(DiffItem("origin", info.remote_url or None, self.repo))
        if info.dirty:
            if not self.force:
                raise PlanError(
                    f"git: {self.dest} has local modifications (force=True discards them)",
                    host=env.host,
                )
            actions.append(self._git("reset", "-q", "--hard"))
            diff.append(DiffItem("local modifications", "present", "discarded"))
        if not at_ref:
            actions += self._update(target)
            before = f"{_short(info.head)}" + (f" ({info.branch})" if info.branch else "")
            diff.append(DiffItem(f"{self.dest} commit", before, self._shown(target)))
        if not actions:
            return Change.noop(f"{self.dest} is at {self.version} ({_short(info.head)})")
        head = target.commit if not at_ref else info.head
        branch = target.name if target.kind == "branch" and not at_ref else info.branch
        after = replace(info, head=head, branch=branch, remote_url=self.repo, dirty=False)
        return Change(tuple(actions), tuple(diff), facts_after=((self._fact(), after),))

    def _shown(self, target: RemoteRef) -> str:
        if target.kind in ("branch", "tag") and target.name:
            return f"{_short(target.commit)} ({target.name})"
        return _short(target.commit)

    def _depth(self) -> list[str]:
        return ["--depth", str(self.depth)] if self.depth else []

    def _clone(self, target: RemoteRef) -> Change:
        env = git_env(self.accept_hostkey, self.key_file)
        words = ["git", "clone", "-q"]
        if self.recursive:
            words.append("--recurse-submodules")
        detach = target.kind == "commit" and target.name != "HEAD"
        if target.kind in ("branch", "tag"):
            words += [*self._depth(), "--branch", quote(target.name)]
        elif detach:  # a commit id: cloned without a checkout, then that commit
            words.append("--no-checkout")
        elif self.depth:
            words += self._depth()
        actions = [Command(" ".join([env, *words, "--", quote(self.repo), quote(self.dest)]))]
        if detach:
            actions.append(self._git("checkout", "-q", "--detach", quote(target.commit)))
            if self.recursive:
                actions.append(self._submodules())
        shown = self._shown(target) if target.commit else self.version
        diff = (DiffItem(self.dest, None, f"clone of {self.repo} at {shown}"),)
        after = GitInfo(
            "repo",
            head=target.commit,
            branch=target.name if target.kind == "branch" else "",
            remote_url=self.repo,
            remote=target,
        )
        return Change(tuple(actions), diff, facts_after=((self._fact(), after),))

    def _submodules(self) -> Command:
        return Command(
            f"{git_env(self.accept_hostkey, self.key_file)} "
            + " ".join(["git", "-C", quote(self.dest), "submodule", "update", "-q"])
            + " --init --recursive"
        )

    def _update(self, target: RemoteRef) -> list[Command]:
        force = ["--force"] if self.force else []
        if target.kind == "branch":
            ref = f"+refs/heads/{target.name}:refs/remotes/origin/{target.name}"
            commands = [
                self._git("fetch", "-q", *self._depth(), "origin", quote(ref), network=True),
                self._git("checkout", "-q", *force, "-B", quote(target.name), target.commit),
                self._git(
                    "branch", "-q", quote(f"--set-upstream-to=origin/{target.name}"),
                    quote(target.name),
                ),
            ]  # fmt: skip
        elif target.kind == "tag":
            ref = f"+refs/tags/{target.name}:refs/tags/{target.name}"
            commands = [
                self._git("fetch", "-q", *self._depth(), "origin", quote(ref), network=True),
                self._git("checkout", "-q", *force, "--detach", target.commit),
            ]
        else:
            commands = [
                self._git("fetch", "-q", "--tags", "origin", network=True),
                self._git("checkout", "-q", *force, "--detach", quote(target.commit)),
            ]
        if self.recursive:
            commands.append(self._submodules())
        return commands


def git(
    host: HostContext,
    repo: str,
    dest: str,
    *,
    version: str = "HEAD",
    force: bool = False,
    depth: int | None = None,
    update: bool = True,
    recursive: bool = True,
    accept_hostkey: bool = False,
    key_file: str | None = None,
    **meta: Any,
) -> Declared:
    """A checkout of ``repo`` at ``dest``, at ``version`` (a branch, a tag, a commit id, or
    HEAD: the remote's default branch). ``depth``: a shallow clone/fetch. ``force``:
    discard local modifications. ``recursive``: submodules too. ``accept_hostkey``:
    trust an unknown ssh host key; ``key_file``: the ssh key to use."""
    op = Git(repo, dest, version, force, depth, update, recursive, accept_hostkey, key_file)
    return host.add(op, **meta)
