"""mount: a filesystem in ``/etc/fstab`` and/or mounted (Ansible's ``ansible.posix.mount``).

States: ``mounted`` (in fstab and mounted; a mounted entry whose device or type
changed is unmounted and mounted again, one whose options changed is remounted),
``present`` (in fstab only), ``unmounted`` (fstab untouched), ``absent`` (out of
fstab and unmounted; the mount point directory stays), ``remounted`` (always).
Blanks in fstab fields are written ``\\040``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from opsforge.deploy.commands import Action, Command
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.files import FileState
from opsforge.deploy.facts.system_state import MountInfo, Mounts, unescape_octal
from opsforge.deploy.operation import Change, DiffItem, Operation, PlanEnv
from opsforge.deploy.operations.files_attrs import check_path
from opsforge.deploy.operations.system_text import read_text, rewrite
from opsforge.errors import InputError, PlanError

__all__ = ["STATES", "Mount"]

STATES = ("mounted", "present", "unmounted", "absent", "remounted")


def _escape(field: str) -> str:
    return field.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011")


@dataclass(frozen=True)
class Mount(Operation):
    path: str
    src: str | None = None
    fstype: str | None = None
    opts: str = "defaults"
    dump: str = "0"
    passno: str = "0"
    state: str = "mounted"
    fstab: str = "/etc/fstab"

    kind: ClassVar[str] = "system.mount"

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", check_path(self.path, "mount: path"))
        check_path(self.fstab, "mount: fstab")
        if self.state not in STATES:
            raise InputError(f"mount: unknown state {self.state!r} (one of {', '.join(STATES)})")
        if self.state in ("mounted", "present") and not (self.src and self.fstype):
            raise InputError(f"mount: state={self.state} needs src and fstype")
        for value, what in ((self.opts, "opts"), (self.dump, "dump"), (self.passno, "passno")):
            if not value or any(c.isspace() for c in value):
                raise InputError(f"mount: {what} {value!r} must be one word")
        if not (self.dump.isdigit() and self.passno.isdigit()):
            raise InputError("mount: dump and passno are numbers")

    def describe(self) -> str:
        return f"mount {self.path} ({self.state})"

    def facts(self) -> tuple[Fact[Any], ...]:
        return (FileState(self.fstab, content=True), Mounts())

    def _entry(self) -> tuple[str, ...]:
        assert self.src
        assert self.fstype
        return (self.src, self.path, self.fstype, self.opts, self.dump, self.passno)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        info, text = read_text(facts, self.fstab, env, "mount")
        mounts = facts.get(Mounts())
        mounted = next((m for m in reversed(mounts) if m.path == self.path), None)
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        out: list[str] = []
        old_entry: tuple[str, ...] | None = None
        for line in lines:
            fields = line.split()
            if line.lstrip().startswith("#") or len(fields) < 2:
                out.append(line)
                continue
            entry = tuple(unescape_octal(f) for f in fields[:6])
            entry += ("", "", "", "", "0", "0")[len(entry) :]  # dump, passno default to 0
            if (entry[1].rstrip("/") or "/") != self.path:
                out.append(line)
                continue
            if old_entry is None:
                old_entry = entry
                if self.state in ("mounted", "present"):
                    out.append(line if entry == self._entry() else self._line())
                elif self.state in ("unmounted", "remounted"):
                    out.append(line)
            # a second entry for the same path: dropped when we manage the entry
            elif self.state in ("unmounted", "remounted"):
                out.append(line)
        if self.state in ("mounted", "present") and old_entry is None:
            out.append(self._line())
        new = "".join(f"{line}\n" for line in out)
        actions: list[Action] = []
        diff: list[DiffItem] = []
        facts_after: list[tuple[Fact[Any], Any]] = []
        if new != text:
            write, item, predicted = rewrite(self.fstab, info, text, new)
            actions.append(write)
            diff.append(item)
            facts_after += predicted
        mount_actions, now = self._mount_actions(mounted, old_entry, env)
        actions += mount_actions
        if mount_actions:
            before = f"mounted from {mounted.src}" if mounted else "not mounted"
            diff.append(DiffItem(self.path, before, now))
            keep = tuple(m for m in mounts if m.path != self.path)
            if now != "not mounted":
                keep += (MountInfo(self.src or "", self.path, self.fstype or "", self.opts),)
            facts_after.append((Mounts(), keep))
        if not actions:
            where = "mounted" if mounted else "not mounted"
            listed = "in" if old_entry is not None else "not in"
            return Change.noop(f"{self.path} is {listed} {self.fstab} and {where}")
        return Change(tuple(actions), tuple(diff), facts_after=tuple(facts_after))

    def _line(self) -> str:
        return " ".join(_escape(f) for f in self._entry())

    def _mount_actions(
        self, mounted: MountInfo | None, old: tuple[str, ...] | None, env: PlanEnv
    ) -> tuple[list[Command], str]:
        if self.state in ("unmounted", "absent"):
            if mounted is None:
                return [], "not mounted"
            return [Command.build("umount", self.path)], "not mounted"
        if self.state == "present":
            return [], ""
        if self.state == "remounted":
            if mounted is None:
                raise PlanError(f"mount: {self.path} is not mounted (remounted)", host=env.host)
            return [Command.build("mount", "-o", "remount", self.path)], "remounted"
        assert self.src
        assert self.fstype
        mount = Command.build("mount", "-t", self.fstype, "-o", self.opts, self.src, self.path)
        if mounted is None:
            return [Command.build("mkdir", "-p", self.path), mount], f"mounted from {self.src}"
        if old is None or old == self._entry():
            return [], ""
        if (old[0], old[2]) != (self.src, self.fstype):
            return [Command.build("umount", self.path), mount], f"mounted from {self.src}"
        if old[3] != self.opts:
            remount = Command.build("mount", "-o", f"remount,{self.opts}", self.path)
            return [remount], f"remounted ({self.opts})"
        return [], ""
