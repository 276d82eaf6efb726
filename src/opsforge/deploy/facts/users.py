"""User and group facts: ``getent passwd``, ``getent group``, a user's password hash, and a
user's ``authorized_keys`` file.

The tables come whole (one ``getent`` each), so every user/group operation of a
host shares two facts, and an operation's ``facts_after`` (a user it creates)
is what the next operation sees. The password hash is a :class:`Secret`: it is
never shown, and a parse error never quotes it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from opsforge.deploy.commands import quote
from opsforge.deploy.facts.base import Fact
from opsforge.types import Secret

__all__ = [
    "AuthorizedKeys",
    "AuthorizedKeysInfo",
    "GroupInfo",
    "Groups",
    "PasswordHash",
    "UserInfo",
    "Users",
]


@dataclass(frozen=True, slots=True)
class UserInfo:
    name: str
    uid: int
    gid: int
    comment: str
    home: str
    shell: str


@dataclass(frozen=True, slots=True)
class GroupInfo:
    name: str
    gid: int
    members: tuple[str, ...] = ()


def _fields(line: str, count: int, what: str, number: int) -> list[str]:
    fields = line.split(":")
    if len(fields) != count:
        raise ValueError(f"line {number}: expected {count} ':'-separated {what} fields")
    return fields


def _int(value: str, what: str, number: int) -> int:
    if not value.isdigit():
        raise ValueError(f"line {number}: {what} {value!r} is not a number")
    return int(value)


@dataclass(frozen=True, slots=True)
class Users(Fact[Mapping[str, UserInfo]]):
    """Every user ``getent passwd`` lists: name -> UserInfo (the first entry of a name wins,
    as for NSS)."""

    name: ClassVar[str] = "users"

    def command(self) -> str:
        return "getent passwd"

    def parse(self, output: str, exit_code: int) -> Mapping[str, UserInfo]:
        if exit_code != 0:
            raise ValueError(f"getent passwd exited {exit_code}")
        found: dict[str, UserInfo] = {}
        for number, line in enumerate(output.split("\n"), 1):
            if not line.strip():
                continue
            name, _, uid, gid, comment, home, shell = _fields(line, 7, "passwd", number)
            info = UserInfo(
                name, _int(uid, "uid", number), _int(gid, "gid", number), comment, home, shell
            )
            found.setdefault(name, info)
        if not found:
            raise ValueError("no users at all (not even root)")
        return found


@dataclass(frozen=True, slots=True)
class Groups(Fact[Mapping[str, GroupInfo]]):
    """Every group ``getent group`` lists: name -> GroupInfo (with its member list)."""

    name: ClassVar[str] = "groups"

    def command(self) -> str:
        return "getent group"

    def parse(self, output: str, exit_code: int) -> Mapping[str, GroupInfo]:
        if exit_code != 0:
            raise ValueError(f"getent group exited {exit_code}")
        found: dict[str, GroupInfo] = {}
        for number, line in enumerate(output.split("\n"), 1):
            if not line.strip():
                continue
            name, _, gid, members = _fields(line, 4, "group", number)
            users = tuple(m for m in members.split(",") if m)
            found.setdefault(name, GroupInfo(name, _int(gid, "gid", number), users))
        if not found:
            raise ValueError("no groups at all (not even root)")
        return found


@dataclass(frozen=True, slots=True)
class PasswordHash(Fact[Secret | None]):
    """The password hash of ``user`` from the shadow database (needs root); None when the
    user does not exist. A Secret; ``Secret("")`` when it could not be read."""

    user: str

    name: ClassVar[str] = "password hash"
    needs_become: ClassVar[bool] = True

    def command(self) -> str:
        u = quote(self.user)
        return (
            f"getent passwd {u} >/dev/null || {{ echo nouser; exit 0; }}\n"
            f"l=$(getent shadow {u} 2>/dev/null) || {{ echo unreadable; exit 0; }}\n"
            'printf "hash %s\\n" "$(printf %s "$l" | cut -d: -f2)"'
        )

    def parse(self, output: str, exit_code: int) -> Secret | None:
        text = output.strip()
        if text == "nouser":
            return None
        if text == "unreadable" or not text.startswith("hash"):
            return Secret("")  # never echo what came back: it may hold a hash
        return Secret(text[4:].strip())


@dataclass(frozen=True, slots=True)
class AuthorizedKeysInfo:
    """A user's authorized_keys file: ``path`` where it is (or would be); ``content``
    None when there is no file; ``user_exists`` False when there is no such user."""

    user_exists: bool
    path: str = ""
    content: str | None = None
    mode: int | None = None
    owner: str = ""
    dir_exists: bool = False


_KEYS_SCRIPT = """\
export LC_ALL=C
l=$(getent passwd {user}) || {{ echo nouser; exit 0; }}
h=$(printf %s "$l" | cut -d: -f6)
p={path}
printf 'path %s\\n' "$(printf %s "$p" | base64 | tr -d '\\n')"
[ -d "$(dirname -- "$p")" ] && echo dir
[ -f "$p" ] || {{ echo absent; exit 0; }}
stat -c 'stat %a %U' -- "$p"
echo content
base64 < "$p\""""


@dataclass(frozen=True, slots=True)
class AuthorizedKeys(Fact[AuthorizedKeysInfo]):
    """The authorized_keys file of ``user``: ``path`` when given (``~`` is the user's home),
    else ``~user/.ssh/authorized_keys`` — the home resolved on the host."""

    user: str
    path: str | None = None

    name: ClassVar[str] = "authorized keys"
    needs_become: ClassVar[bool] = True

    def command(self) -> str:
        if self.path is None:
            path = '"$h/.ssh/authorized_keys"'
        elif self.path.startswith("~/"):
            path = '"$h"/' + quote(self.path[2:])
        else:
            path = quote(self.path)
        return _KEYS_SCRIPT.format(user=quote(self.user), path=path)

    def parse(self, output: str, exit_code: int) -> AuthorizedKeysInfo:
        lines = output.split("\n")
        if lines and lines[0].strip() == "nouser":
            return AuthorizedKeysInfo(False)
        fields: dict[str, str] = {}
        body: list[str] = []
        for index, line in enumerate(lines):
            if line == "content":
                body = lines[index + 1 :]
                break
            key, _, value = line.partition(" ")
            if key:
                fields[key] = value
        if "path" not in fields:
            raise ValueError("no path line")
        try:
            path = base64.b64decode(fields["path"]).decode()
            content = base64.b64decode("".join(body)).decode() if "stat" in fields else None
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError(f"bad base64 data ({exc})") from None
        mode: int | None = None
        owner = ""
        if "stat" in fields:
            words = fields["stat"].split()
            if len(words) != 2 or not words[0].isdigit():
                raise ValueError(f"bad stat line {fields['stat']!r}")
            mode, owner = int(words[0], 8), words[1]
        elif "absent" not in fields:
            raise ValueError("expected 'absent' or a stat line")
        return AuthorizedKeysInfo(
            True, path, content, mode, owner, "dir" in fields or "stat" in fields
        )
