"""What is at a path: a file, a directory, a symlink, or nothing (Ansible's ``file``)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from opsforge.deploy.commands import Action, Command
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.files import FileInfo, FileState, TreeDrift, TreeDriftInfo
from opsforge.deploy.operation import Change, DiffItem, Operation, PlanEnv
from opsforge.deploy.operations.files_attrs import (
    Attrs,
    check_path,
    describe_info,
    fixed,
    predict,
    refuse,
    settled,
)
from opsforge.errors import InputError

__all__ = ["Directory", "File", "Link", "Remove"]


def _kind(info: FileInfo) -> str:
    if info.is_link:
        return f"a symlink to {info.link_target}"
    return "a regular file" if info.is_file else f"a {info.type}"


def _followed(info: FileInfo, want: str, attrs: Attrs, path: str, env: PlanEnv) -> Change | None:
    """A symlink where a file/directory is wanted: fine if it points to one and no
    mode/owner is asked (those would be the target's); else None."""
    if not info.is_link or info.target_type != want:
        return None
    if attrs != Attrs():
        raise refuse(
            env, f"{path} is a symlink to {info.link_target}: set mode/owner on its target"
        )
    return Change.noop(f"{path} is a symlink to a {want} ({info.link_target})")


@dataclass(frozen=True)
class File(Operation):
    """A regular file that exists (``touch``: created empty when missing) with a mode/owner."""

    path: str
    touch: bool = False
    attrs: Attrs = field(default_factory=Attrs)

    kind: ClassVar[str] = "files.file"

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", check_path(self.path))

    def describe(self) -> str:
        return f"{'touch' if self.touch else 'file'} {self.path}"

    def facts(self) -> tuple[Fact[Any], ...]:
        return (FileState(self.path),)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        info = facts.get(FileState(self.path))
        if info is None:
            if not self.touch:
                raise refuse(
                    env,
                    f"{self.path} does not exist (state=file does not create files: "
                    "use state=touch, copy or template)",
                )
            actions, diff = self.attrs.fixups(self.path, None, is_dir=False)
            after = predict(self.path, None, "file", self.attrs, data=b"")
            return Change(
                (Command.build("touch", self.path), *actions),
                (DiffItem(self.path, None, "file"), *diff),
                facts_after=settled(self.path, after),
            )
        if not info.is_file:
            followed = _followed(info, "file", self.attrs, self.path, env)
            if followed:
                return followed
            raise refuse(env, f"{self.path} is {_kind(info)}, not a regular file")
        actions, diff = self.attrs.fixups(self.path, info, is_dir=False)
        if not actions:
            return Change.noop(f"file {self.path} exists ({describe_info(info)})")
        fixed_facts = fixed(self.path, facts, "file", self.attrs)
        return Change(tuple(actions), tuple(diff), facts_after=fixed_facts)


@dataclass(frozen=True)
class Directory(Operation):
    """``mkdir -p``; mode/owner fixed only where they differ (``recursive``: the whole tree)."""

    path: str
    present: bool = True
    attrs: Attrs = field(default_factory=Attrs)
    recursive: bool = False

    kind: ClassVar[str] = "files.directory"

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", check_path(self.path))
        if self.recursive and self.attrs.mode is not None and self.attrs.mode.bits is None:
            raise InputError(f"recursive modes must be octal, got {self.attrs.mode}")
        if not self.present and posixpath.normpath(self.path) == "/":
            raise InputError("refusing to remove /")

    def describe(self) -> str:
        return f"directory {self.path}" + ("" if self.present else " (absent)")

    def _drift(self) -> TreeDrift | None:
        if not (self.present and self.recursive and self.attrs != Attrs()):
            return None
        mode = self.attrs.mode.bits if self.attrs.mode else None
        return TreeDrift(self.path, mode, self.attrs.owner, self.attrs.group)

    def facts(self) -> tuple[Fact[Any], ...]:
        drift = self._drift()
        return (FileState(self.path),) + ((drift,) if drift else ())

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        info = facts.get(FileState(self.path))
        if not self.present:
            if info is None:
                return Change.noop(f"{self.path} does not exist")
            if not info.is_dir:
                raise refuse(env, f"{self.path} is {_kind(info)}, not a directory: use remove()")
            return Change(
                (Command.build("rm", "-rf", self.path),),
                (DiffItem(self.path, "directory", None),),
                facts_after=settled(self.path, None),
            )
        if info is None:
            actions, diff = self.attrs.fixups(self.path, None, is_dir=True)
            create = Command.build("mkdir", "-p", self.path)
            mode = self.attrs.desired_mode(None, is_dir=True)
            chmod = Command.build("chmod", f"{mode:04o}", self.path) if mode is not None else None
            if actions and actions[0] == chmod:  # one process: the mode set at creation
                create = Command.build("mkdir", "-p", "-m", f"{mode:04o}", self.path)
                actions = actions[1:]
            return Change(
                (create, *actions),
                (DiffItem(self.path, None, "directory"), *diff),
                facts_after=settled(self.path, predict(self.path, None, "directory", self.attrs)),
            )
        if not info.is_dir:
            followed = _followed(info, "directory", self.attrs, self.path, env)
            if followed:
                return followed
            raise refuse(env, f"{self.path} is {_kind(info)}, not a directory")
        drift = self._drift()
        if drift is not None:
            actions, diff = self._tree_fixups(facts.get(drift))
        else:
            actions, diff = self.attrs.fixups(self.path, info, is_dir=True)
        if not actions:
            return Change.noop(f"directory {self.path} exists ({describe_info(info)})")
        fixed_facts = fixed(self.path, facts, "directory", self.attrs)
        return Change(tuple(actions), tuple(diff), facts_after=fixed_facts)

    def _tree_fixups(self, found: TreeDriftInfo) -> tuple[list[Action], list[DiffItem]]:
        mode_drift = bool(found.mode) and self.attrs.mode is not None
        owner_drift = bool(found.owner)
        diff = []
        if mode_drift:
            diff.append(DiffItem("mode (recursive)", _sample(found.mode), str(self.attrs.mode)))
        if owner_drift:
            owner = ":".join(x for x in (self.attrs.owner, self.attrs.group) if x)
            diff.append(DiffItem("owner (recursive)", _sample(found.owner), owner))
        return self.attrs.tree_fixups(self.path, mode_drift, owner_drift), diff


def _sample(paths: tuple[str, ...]) -> str:
    return "differs on " + ", ".join(paths)


@dataclass(frozen=True)
class Link(Operation):
    """A symlink at ``path`` pointing to ``target`` (``ln -sfn``). A real file or an
    empty directory in the way is replaced only with ``force``."""

    path: str
    target: str = ""
    present: bool = True
    force: bool = False
    attrs: Attrs = field(default_factory=Attrs)

    kind: ClassVar[str] = "files.link"

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", check_path(self.path))
        if self.present and not self.target:
            raise InputError(f"link {self.path}: a target is required")
        if "\0" in self.target:
            raise InputError(f"link {self.path}: the target contains a NUL byte")
        if self.attrs.mode is not None:
            raise InputError(f"link {self.path}: a symlink has no mode of its own")

    def describe(self) -> str:
        if not self.present:
            return f"link {self.path} (absent)"
        return f"link {self.path} -> {self.target}"

    def facts(self) -> tuple[Fact[Any], ...]:
        return (FileState(self.path),)

    def _ln(self) -> Command:
        sep = ("--",) if self.target.startswith("-") else ()
        return Command.build("ln", "-sfn", *sep, self.target, self.path)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        info = facts.get(FileState(self.path))
        if not self.present:
            if info is None:
                return Change.noop(f"{self.path} does not exist")
            if not info.is_link:
                raise refuse(env, f"{self.path} is {_kind(info)}, not a symlink: use remove()")
            rm = Command.build("rm", "-f", self.path)
            diff = DiffItem(self.path, f"-> {info.link_target}", None)
            return Change((rm,), (diff,), facts_after=settled(self.path, None))
        if info is not None and info.is_link and info.link_target == self.target:
            fix, fix_diff = self.attrs.fixups(self.path, info, is_dir=False, no_dereference=True)
            if not fix:
                return Change.noop(f"{self.path} already points to {self.target}")
            fixed_facts = fixed(self.path, facts, "link", self.attrs)
            return Change(tuple(fix), tuple(fix_diff), facts_after=fixed_facts)
        actions: list[Action] = []
        if info is not None and not info.is_link:
            if not self.force:
                raise refuse(
                    env,
                    f"{self.path} is {_kind(info)}; use force=True to replace it with a symlink",
                )
            flags = () if info.is_dir else ("-f",)
            actions.append(Command.build("rmdir" if info.is_dir else "rm", *flags, self.path))
        actions.append(self._ln())
        fix, fix_diff = self.attrs.fixups(self.path, None, is_dir=False, no_dereference=True)
        before = None if info is None else f"-> {info.link_target}" if info.is_link else info.type
        after = replace(
            predict(self.path, None, "link", self.attrs, link_target=self.target),
            target_type=None,
        )
        return Change(
            (*actions, *fix),
            (DiffItem(self.path, before, f"-> {self.target}"), *fix_diff),
            facts_after=settled(self.path, after),
        )


@dataclass(frozen=True)
class Remove(Operation):
    """Nothing at ``path`` (``rm -rf`` of exactly that path; never ``/``)."""

    path: str

    kind: ClassVar[str] = "files.remove"

    def __post_init__(self) -> None:
        path = check_path(self.path)
        if posixpath.normpath(path) in {"/", "//"}:
            raise InputError("refusing to remove /")
        object.__setattr__(self, "path", path)

    def describe(self) -> str:
        return f"remove {self.path}"

    def facts(self) -> tuple[Fact[Any], ...]:
        return (FileState(self.path),)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        info = facts.get(FileState(self.path))
        if info is None:
            return Change.noop(f"{self.path} is already absent")
        flags = "-rf" if info.is_dir else "-f"
        return Change(
            (Command.build("rm", flags, self.path),),
            (DiffItem(self.path, info.type, None),),
            facts_after=settled(self.path, None),
        )
