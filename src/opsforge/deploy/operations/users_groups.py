"""Groups (Ansible's group, pyinfra's ``server.group``), and the name checks and id guesses
users share."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from opsforge.deploy.commands import Command
from opsforge.deploy.context import Declared, HostContext
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.users import GroupInfo, Groups, UserInfo, Users
from opsforge.deploy.operation import Change, DiffItem, Operation, PlanEnv
from opsforge.errors import InputError, PlanError

__all__ = ["Group", "check_name", "group", "next_id", "present_of"]

_NAME = re.compile(r"^[a-z_][a-z0-9_.-]*\$?$", re.IGNORECASE)


def check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > 32:
        raise InputError(f"{what}: {name!r} is not a valid {what} name")
    return name


def present_of(state: str | None, present: bool, what: str) -> bool:
    if state is None:
        return present
    if state not in ("present", "absent"):
        raise InputError(f"{what}: unknown state {state!r} (present or absent)")
    return state == "present"


def _refuse(env: PlanEnv, message: str) -> PlanError:
    return PlanError(message, host=env.host)


# ---- groups ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group(Operation):
    group: str
    gid: int | None = None
    system: bool = False
    present: bool = True

    kind: ClassVar[str] = "users.group"

    def __post_init__(self) -> None:
        check_name(self.group, "group")

    def describe(self) -> str:
        return f"group {self.group}" + ("" if self.present else " (absent)")

    def facts(self) -> tuple[Fact[Any], ...]:
        return (Groups(),) if self.present else (Groups(), Users())

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        groups = facts.get(Groups())
        info = groups.get(self.group)
        after = dict(groups)
        if not self.present:
            if info is None:
                return Change.noop(f"group {self.group} does not exist")
            owners = [u.name for u in facts.get(Users()).values() if u.gid == info.gid]
            if owners:
                raise _refuse(
                    env, f"group {self.group} is the primary group of {', '.join(owners)}"
                )
            del after[self.group]
            return Change(
                (Command.build("groupdel", self.group),),
                (DiffItem(f"group {self.group}", f"gid {info.gid}", None),),
                facts_after=((Groups(), after),),
            )
        if self.gid is not None:
            taken = [g.name for g in groups.values() if g.gid == self.gid and g.name != self.group]
            if taken:
                raise _refuse(env, f"gid {self.gid} already belongs to group {taken[0]}")
        if info is None:
            words = ["groupadd"]
            if self.gid is not None:
                words += ["-g", str(self.gid)]
            if self.system:
                words.append("-r")
            gid = self.gid if self.gid is not None else next_id(groups.values(), self.system)
            after[self.group] = GroupInfo(self.group, gid)
            return Change(
                (Command.build(*words, self.group),),
                (DiffItem(f"group {self.group}", None, f"gid {self.gid or '(next free)'}"),),
                facts_after=((Groups(), after),),
            )
        if self.gid is None or self.gid == info.gid:
            return Change.noop(f"group {self.group} exists (gid {info.gid})")
        after[self.group] = replace(info, gid=self.gid)
        return Change(
            (Command.build("groupmod", "-g", str(self.gid), self.group),),
            (DiffItem("gid", str(info.gid), str(self.gid)),),
            facts_after=((Groups(), after),),
        )


def next_id(entries: Any, system: bool) -> int:
    """A guess of the id useradd/groupadd will pick (for later operations of this run)."""
    ids = {e.uid if isinstance(e, UserInfo) else e.gid for e in entries}
    low, high = (100, 999) if system else (1000, 59999)
    used = [i for i in ids if low <= i <= high]
    if system:
        return min(set(range(low, high + 1)) - set(used), default=high)
    return max(used, default=low - 1) + 1


def group(
    host: HostContext,
    name: str,
    *,
    gid: int | None = None,
    system: bool = False,
    present: bool = True,
    state: str | None = None,
    **meta: Any,
) -> Declared:
    """A group (``gid``, ``system``); ``present=False`` / ``state="absent"`` removes it."""
    op = Group(name, gid, system, present_of(state, present, "group"))
    return host.add(op, **meta)
