"""Users and groups (Ansible's user/group/authorized_key, pyinfra's ``server.user``/
``server.group``).

::

    from opsforge.deploy.operations import users

    def deploy(host):
        users.group(host, "app", system=True)
        users.user(host, "app", group="app", groups=["www-data"], shell="/bin/bash",
                   home="/srv/app", system=True, password=Secret("$6$..."))
        users.authorized_key(host, "app", "ssh-ed25519 AAAA... deploy@ci", exclusive=True)

Reads ``getent passwd``/``getent group`` (and the shadow hash when a password is
given); plans one ``useradd``/``usermod``/``userdel`` (``groupadd``/``groupmod``/
``groupdel``) with only the fields that differ. ``password`` is a crypt hash (what
Ansible's ``password_hash`` filter makes), a Secret or a string; it never shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from opsforge.deploy.commands import Command
from opsforge.deploy.context import Declared, HostContext
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.users import GroupInfo, Groups, PasswordHash, UserInfo, Users
from opsforge.deploy.operation import Change, DiffItem, Operation, PlanEnv
from opsforge.deploy.operations.users_groups import Group, check_name, group, next_id, present_of
from opsforge.deploy.operations.users_keys import AuthorizedKey, authorized_key
from opsforge.errors import InputError, PlanError
from opsforge.types import Secret

__all__ = ["AuthorizedKey", "Group", "User", "authorized_key", "group", "user"]


def _refuse(env: PlanEnv, message: str) -> PlanError:
    return PlanError(message, host=env.host)


# ---- users -------------------------------------------------------------------------------


@dataclass(frozen=True)
class User(Operation):
    user: str
    present: bool = True
    uid: int | None = None
    group: str | None = None
    groups: tuple[str, ...] | None = None
    append: bool = False
    home: str | None = None
    create_home: bool = True
    move_home: bool = False
    shell: str | None = None
    system: bool = False
    password: Secret | None = None
    update_password: str = "always"
    comment: str | None = None
    remove: bool = False
    force: bool = False

    kind: ClassVar[str] = "users.user"

    def __post_init__(self) -> None:
        check_name(self.user, "user")
        for name in self.groups or ():
            check_name(name, "group")
        if self.update_password not in ("always", "on_create"):
            raise InputError("user: update_password is always or on_create")
        if self.home is not None and not self.home.startswith("/"):
            raise InputError(f"user: home must be an absolute path, got {self.home!r}")
        for value, what in ((self.comment, "comment"), (self.shell, "shell")):
            if value is not None and (":" in value or "\n" in value):
                raise InputError(f"user: {what} cannot contain ':' or a newline")
        if self.password is not None:
            text = self.password.reveal()
            if (text and not text.startswith(("$", "!", "*"))) or ":" in text:
                raise InputError(
                    "user: password must be a crypt hash ($6$..., ! or *), not a plain "
                    "password (Ansible: the password_hash filter)"
                )

    def describe(self) -> str:
        return f"user {self.user}" + ("" if self.present else " (absent)")

    def facts(self) -> tuple[Fact[Any], ...]:
        found: list[Fact[Any]] = [Users(), Groups()]
        if self.present and self.password is not None:
            found.append(PasswordHash(self.user))
        return tuple(found)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        users, groups = facts.get(Users()), facts.get(Groups())
        info = users.get(self.user)
        if not self.present:
            if info is None:
                return Change.noop(f"user {self.user} does not exist")
            words = ["userdel"] + (["-r"] if self.remove else []) + (["-f"] if self.force else [])
            after = {k: v for k, v in users.items() if k != self.user}
            return Change(
                (Command.build(*words, self.user),),
                (DiffItem(f"user {self.user}", f"uid {info.uid}", None),),
                facts_after=((Users(), after),),
            )
        if self.uid is not None:
            taken = [u.name for u in users.values() if u.uid == self.uid and u.name != self.user]
            if taken:
                raise _refuse(env, f"uid {self.uid} already belongs to user {taken[0]}")
        for name in self.groups or ():
            if name not in groups:
                raise _refuse(env, f"user {self.user}: no group {name} (add it with group())")
        primary = self._primary(groups, info, env)
        if info is None:
            return self._create(users, groups, primary)
        return self._modify(facts, info, users, groups, primary, env)

    def _primary(
        self, groups: Mapping[str, GroupInfo], info: UserInfo | None, env: PlanEnv
    ) -> GroupInfo | None:
        """The wanted primary group (None: not asked for, and a new user gets its own)."""
        name = self.group
        if name is None:
            return groups.get(self.user) if info is None else None
        found = groups.get(name)
        if found is None and name.isdigit():
            found = next((g for g in groups.values() if g.gid == int(name)), None)
        if found is None:
            raise _refuse(env, f"user {self.user}: no group {name} (add it with group())")
        return found

    def _create(
        self,
        users: Mapping[str, UserInfo],
        groups: Mapping[str, GroupInfo],
        primary: GroupInfo | None,
    ) -> Change:
        parts: list[str | Secret] = ["useradd"]
        if self.uid is not None:
            parts += ["-u", str(self.uid)]
        if primary is not None:
            parts += ["-g", primary.name]
        if self.groups:
            parts += ["-G", ",".join(self.groups)]
        home = self.home or f"/home/{self.user}"
        if self.home is not None:
            parts += ["-d", self.home]
        parts.append("-m" if self.create_home else "-M")
        if self.shell is not None:
            parts += ["-s", self.shell]
        if self.system:
            parts.append("-r")
        if self.comment is not None:
            parts += ["-c", self.comment]
        if self.password is not None:
            parts += ["-p", self.password]
        parts.append(self.user)
        uid = self.uid if self.uid is not None else next_id(users.values(), self.system)
        group_after = dict(groups)
        if primary is None:  # useradd makes the user's own group
            primary = GroupInfo(self.user, next_id(groups.values(), self.system))
            group_after[self.user] = primary
        for name in self.groups or ():
            member = group_after[name]
            group_after[name] = replace(member, members=(*member.members, self.user))
        new = UserInfo(self.user, uid, primary.gid, self.comment or "", home, self.shell or "")
        diff = [DiffItem(f"user {self.user}", None, f"uid {self.uid or '(next free)'}")]
        diff += [DiffItem("home", None, home), DiffItem("group", None, primary.name)]
        if self.groups:
            diff.append(DiffItem("groups", None, ",".join(self.groups)))
        if self.password is not None:
            diff.append(DiffItem("password", None, "(set)"))
        return Change(
            (Command.build(*parts),),
            tuple(diff),
            facts_after=((Users(), {**users, self.user: new}), (Groups(), group_after)),
        )

    def _modify(
        self,
        facts: FactCache,
        info: UserInfo,
        users: Mapping[str, UserInfo],
        groups: Mapping[str, GroupInfo],
        primary: GroupInfo | None,
        env: PlanEnv,
    ) -> Change:
        parts: list[str | Secret] = ["usermod"]
        diff: list[DiffItem] = []
        new = info

        def change(flag: str, label: str, before: str, after: str) -> None:
            parts.extend([flag, after])
            diff.append(DiffItem(label, before, after))

        if self.uid is not None and self.uid != info.uid:
            change("-u", "uid", str(info.uid), str(self.uid))
            new = replace(new, uid=self.uid)
        if primary is not None and primary.gid != info.gid:
            change("-g", "group", _group_name(groups, info.gid), primary.name)
            new = replace(new, gid=primary.gid)
        group_after = dict(groups)
        if self.groups is not None:
            own = {g.name for g in groups.values() if self.user in g.members}
            primary_name = _group_name(groups, new.gid)
            own.discard(primary_name)  # the primary group is not a supplementary one,
            wanted = set(self.groups) - {primary_name}  # on either side (as Ansible)
            if (wanted - own) if self.append else (wanted != own):
                final = own | wanted if self.append else wanted
                if self.append:
                    parts.append("-a")
                parts.extend(["-G", ",".join(sorted(wanted if self.append else final))])
                diff.append(DiffItem("groups", ",".join(sorted(own)), ",".join(sorted(final))))
                for g in groups.values():
                    members = tuple(m for m in g.members if m != self.user)
                    if g.name in final:
                        members = (*members, self.user)
                    group_after[g.name] = replace(g, members=members)
        if self.home is not None and self.home != info.home:
            change("-d", "home", info.home, self.home)
            if self.move_home:
                parts.append("-m")
            new = replace(new, home=self.home)
        if self.shell is not None and self.shell != info.shell:
            change("-s", "shell", info.shell, self.shell)
            new = replace(new, shell=self.shell)
        if self.comment is not None and self.comment != info.comment:
            change("-c", "comment", info.comment, self.comment)
            new = replace(new, comment=self.comment)
        if self.password is not None and self.update_password == "always":
            current = facts.get(PasswordHash(self.user))
            if current is not None and not current.reveal():
                raise _refuse(
                    env,
                    f"user {self.user}: cannot read the password hash (reading the shadow "
                    "database needs root: become)",
                )
            if current != self.password:
                parts.extend(["-p", self.password])
                diff.append(DiffItem("password", "(old hash)", "(new hash)"))
        if len(parts) == 1:
            return Change.noop(f"user {self.user} is as wanted (uid {info.uid}, {info.home})")
        parts.append(self.user)
        facts_after: tuple[tuple[Fact[Any], Any], ...] = (
            (Users(), {**users, self.user: new}),
            (Groups(), group_after),
        )
        if self.password is not None and any(d.label == "password" for d in diff):
            facts_after += ((PasswordHash(self.user), self.password),)
        return Change((Command.build(*parts),), tuple(diff), facts_after=facts_after)


def _group_name(groups: Mapping[str, GroupInfo], gid: int) -> str:
    return next((g.name for g in groups.values() if g.gid == gid), str(gid))


def user(
    host: HostContext,
    name: str,
    *,
    uid: int | None = None,
    group: str | int | None = None,
    groups: str | Sequence[str] | None = None,
    append: bool = False,
    home: str | None = None,
    create_home: bool = True,
    move_home: bool = False,
    shell: str | None = None,
    system: bool = False,
    password: str | Secret | None = None,
    update_password: str = "always",
    comment: str | None = None,
    present: bool = True,
    state: str | None = None,
    remove: bool = False,
    force: bool = False,
    **meta: Any,
) -> Declared:
    """A user with these fields (only the ones given are managed). ``groups``: the
    supplementary groups, exactly (``append=True``: at least these). ``password``: a
    crypt hash. ``present=False``/``state="absent"`` deletes the user (``remove``: its
    home and mail spool too)."""
    if isinstance(groups, str):
        groups = [g.strip() for g in groups.split(",") if g.strip()]
    secret = Secret(password) if isinstance(password, str) else password
    op = User(
        name,
        present_of(state, present, "user"),
        uid,
        str(group) if group is not None else None,
        tuple(groups) if groups is not None else None,
        append,
        home,
        create_home,
        move_home,
        shell,
        system,
        secret,
        update_password,
        comment,
        remove,
        force,
    )
    return host.add(op, **meta)
