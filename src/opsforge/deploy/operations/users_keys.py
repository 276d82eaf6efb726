"""authorized_key: SSH public keys in a user's ``authorized_keys`` (Ansible's
``ansible.posix.authorized_key``).

A key is recognised by its base64 blob: the same key with other options or another
comment is replaced in place, a new one is appended, ``exclusive`` keeps only the
given keys. The file is written whole (mode 0600, owned by the user); its
directory is created (0700) when missing.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from opsforge.deploy.commands import Action, Command, WriteFile
from opsforge.deploy.context import Declared, HostContext
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.users import AuthorizedKeys, AuthorizedKeysInfo, Groups, Users
from opsforge.deploy.operation import Change, DiffItem, Operation, PlanEnv
from opsforge.errors import InputError, PlanError

__all__ = ["AuthorizedKey", "KeyLine", "authorized_key"]

_TYPE = re.compile(
    r"^(?:ssh-(?:rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(?:256|384|521)"
    r"|sk-(?:ecdsa-sha2-nistp256|ssh-ed25519)@openssh\.com"
    r"|(?:ssh-(?:rsa|ed25519)|ecdsa-sha2-nistp\d+)-cert-v01@openssh\.com)$"
)
_BLOB = re.compile(r"^[A-Za-z0-9+/]+={0,3}$")


@dataclass(frozen=True, slots=True)
class KeyLine:
    """One authorized_keys line: ``[options] type blob [comment]``."""

    options: str
    type: str
    blob: str
    comment: str

    @classmethod
    def parse(cls, line: str) -> KeyLine | None:
        """None for blank lines, comments and lines that are not keys."""
        text = line.strip()
        if not text or text.startswith("#"):
            return None
        words = _split_options(text)
        for index, word in enumerate(words[:-1]):
            if _TYPE.match(word) and _BLOB.match(words[index + 1]):
                options = " ".join(words[:index])
                comment = " ".join(words[index + 2 :])
                return cls(options, word, words[index + 1], comment)
        return None

    def text(self) -> str:
        parts = [self.options, self.type, self.blob, self.comment]
        return " ".join(p for p in parts if p)


def _split_options(text: str) -> list[str]:
    """Whitespace-separated words, where a double-quoted option value may hold spaces."""
    words: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char in " \t" and not quoted:
            if current:
                words.append("".join(current))
                current = []
            continue
        current.append(char)
    if current:
        words.append("".join(current))
    return words


@dataclass(frozen=True)
class AuthorizedKey(Operation):
    user: str
    keys: tuple[KeyLine, ...]
    present: bool = True
    exclusive: bool = False
    path: str | None = None
    manage_dir: bool = True

    kind: ClassVar[str] = "users.authorized_key"

    def describe(self) -> str:
        count = len(self.keys)
        what = f"{count} key{'s' if count != 1 else ''}"
        return f"authorized_key {self.user} ({what}{', absent' if not self.present else ''})"

    def _fact(self) -> AuthorizedKeys:
        return AuthorizedKeys(self.user, self.path)

    def facts(self) -> tuple[Fact[Any], ...]:
        return (self._fact(), Users(), Groups())

    def _where(self, facts: FactCache, env: PlanEnv) -> tuple[AuthorizedKeysInfo, str]:
        """The file's state and the user's primary group (a user made earlier in this run:
        from the predicted users table)."""
        info = facts.get(self._fact())
        user = facts.get(Users()).get(self.user)
        if user is None:
            raise PlanError(f"authorized_key: no user {self.user}", host=env.host)
        group = next((g.name for g in facts.get(Groups()).values() if g.gid == user.gid), "")
        if not info.user_exists:  # created by an earlier operation of this run
            if self.path is None:
                path = f"{user.home}/.ssh/authorized_keys"
            elif self.path.startswith("~/"):
                path = f"{user.home}/{self.path[2:]}"
            else:
                path = self.path
            info = AuthorizedKeysInfo(True, path)
        return info, group or str(user.gid)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        info, group = self._where(facts, env)
        old = info.content
        lines = (old or "").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        wanted = {k.blob: k for k in self.keys}
        if self.present:
            out: list[str] = []
            placed: set[str] = set()
            for line in lines:
                key = KeyLine.parse(line)
                if key is not None and key.blob in wanted:
                    if key.blob not in placed:
                        out.append(wanted[key.blob].text())
                        placed.add(key.blob)
                elif not self.exclusive:
                    out.append(line)
            out += [k.text() for k in self.keys if k.blob not in placed]
        else:
            out = [line for line in lines if (KeyLine.parse(line) or _NONE).blob not in wanted]
        new = "".join(f"{line}\n" for line in out)
        if new == (old or "") and (old is not None or not self.present):
            state = "present" if self.present else "absent"
            where = info.path if old is not None else f"{info.path} (no file)"
            return Change.noop(f"keys already {state} in {where}")
        actions: list[Action] = []
        parent = posixpath.dirname(info.path)
        if old is None and self.manage_dir and not info.dir_exists:
            actions.append(
                Command.build("install", "-d", "-m", "0700", "-o", self.user, "-g", group, parent)
            )
        actions.append(WriteFile(info.path, new.encode(), 0o600, self.user, group))
        after = replace(info, content=new, mode=0o600, owner=self.user, dir_exists=True)
        return Change(
            tuple(actions),
            (DiffItem(info.path, old, new, content=True),),
            facts_after=((self._fact(), after),),
        )


_NONE = KeyLine("", "", "", "")


def authorized_key(
    host: HostContext,
    user: str,
    key: str | Sequence[str],
    *,
    present: bool = True,
    state: str | None = None,
    exclusive: bool = False,
    path: str | None = None,
    manage_dir: bool = True,
    key_options: str | None = None,
    **meta: Any,
) -> Declared:
    """SSH public key(s) of ``user``: ``key`` holds one key per line (or a list).
    ``exclusive``: no other keys stay. ``path``: another file (``~/`` is the user's
    home). ``key_options``: options put before every key (``from="10.0.0.0/8"``)."""
    if state is not None:
        if state not in ("present", "absent"):
            raise InputError(f"authorized_key: unknown state {state!r} (present or absent)")
        present = state == "present"
    if not isinstance(user, str) or not user or ":" in user or "/" in user:
        raise InputError(f"authorized_key: bad user {user!r}")
    if path is not None and not path.startswith(("/", "~/")):
        raise InputError(f"authorized_key: path must be absolute or start with ~/, got {path!r}")
    text = key if isinstance(key, str) else "\n".join(key)
    if text.strip().startswith(("http://", "https://")):
        raise InputError("authorized_key: keys from a URL are not supported; give the keys")
    keys: list[KeyLine] = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        parsed = KeyLine.parse(line)
        if parsed is None:
            raise InputError(f"authorized_key: line {number} is not an SSH public key")
        if key_options is not None:
            parsed = replace(parsed, options=key_options)
        keys.append(parsed)
    if not keys and not (exclusive and present):
        raise InputError("authorized_key: no key given")
    op = AuthorizedKey(user, tuple(keys), present, exclusive, path, manage_dir)
    return host.add(op, **meta)
