"""Shared pieces of the file operations: paths, modes, owner/group fix-ups.

A mode is given as ``"0644"``, ``"644"``, ``0o644`` or symbolically
(``"u=rw,g=r,o=r"``, ``"u+x"``, ``"a-w"``, ``"u=rwX"``); a symbolic mode is
resolved against the current mode of the path (or the default of a new one) when
the plan is made. Owners and groups are names or numeric ids.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from typing import Any

from opsforge.deploy.commands import Action, Command
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.files import CONTENT_LIMIT, FileInfo, FileState
from opsforge.deploy.operation import DiffItem, PlanEnv
from opsforge.errors import InputError, PlanError

__all__ = [
    "DEFAULT_DIR_MODE",
    "DEFAULT_FILE_MODE",
    "Attrs",
    "Mode",
    "check_path",
    "describe_info",
    "fixed",
    "predict",
    "refuse",
    "settled",
]

DEFAULT_FILE_MODE = 0o644  # what a new file gets (the apply script runs with umask 022)
DEFAULT_DIR_MODE = 0o755

_SYMBOLIC = re.compile(r"[ugoa]*(?:[-+=][rwxXst]*)+")
_OCTAL = re.compile(r"(?:0o)?[0-7]{1,4}")
_WHO = {"u": 0o4700, "g": 0o2070, "o": 0o1007}
_PERM = {
    "u": {"r": 0o400, "w": 0o200, "x": 0o100, "s": 0o4000, "t": 0},
    "g": {"r": 0o040, "w": 0o020, "x": 0o010, "s": 0o2000, "t": 0},
    "o": {"r": 0o004, "w": 0o002, "x": 0o001, "s": 0, "t": 0o1000},
}


def check_path(path: str, what: str = "path") -> str:
    """An absolute path without trailing slashes, or InputError."""
    if not isinstance(path, str) or not path:
        raise InputError(f"{what} is required")
    if "\0" in path:
        raise InputError(f"{what} {path!r} contains a NUL byte")
    if not path.startswith("/"):
        raise InputError(f"{what} must be an absolute path, got {path!r}")
    stripped = path.rstrip("/")
    return stripped or "/"


def refuse(env: PlanEnv, message: str) -> PlanError:
    """A plan-time refusal: what is on the host does not allow the operation."""
    return PlanError(message, host=env.host)


@dataclass(frozen=True, slots=True)
class Mode:
    """A permission mode: absolute ``bits`` or a ``symbolic`` expression."""

    bits: int | None = None
    symbolic: str | None = None

    @classmethod
    def parse(cls, value: str | int | Mode | None) -> Mode | None:
        if value is None or isinstance(value, Mode):
            return value
        if isinstance(value, bool):
            raise InputError(f"invalid mode {value!r}")
        if isinstance(value, int):
            if not 0 <= value <= 0o7777:
                raise InputError(f"invalid mode {value!r} (must be between 0 and 0o7777)")
            return cls(bits=value)
        text = str(value).strip()
        if _OCTAL.fullmatch(text):
            return cls(bits=int(text.removeprefix("0o"), 8))
        if text and all(_SYMBOLIC.fullmatch(clause) for clause in text.split(",")):
            return cls(symbolic=text)
        raise InputError(
            f"invalid mode {value!r}: use octal ('0644', 0o644) or symbolic ('u=rw,g=r,o=r')"
        )

    def resolve(self, current: int, *, is_dir: bool) -> int:
        """The absolute mode this gives when applied to a path that has ``current``."""
        if self.bits is not None:
            return self.bits
        mode = current
        for clause in (self.symbolic or "").split(","):
            who_text = clause[: len(clause) - len(clause.lstrip("ugoa"))]
            whos = "ugo" if not who_text or "a" in who_text else who_text
            for op, perms in re.findall(r"([-+=])([rwxXst]*)", clause):
                bits = 0
                for who in whos:
                    for perm in perms:
                        if perm == "X":
                            if is_dir or current & 0o111:
                                bits |= _PERM[who]["x"]
                        else:
                            bits |= _PERM[who][perm]
                if op == "=":
                    for who in whos:
                        mode &= ~_WHO[who]
                    mode |= bits
                elif op == "+":
                    mode |= bits
                else:
                    mode &= ~bits
        return mode

    def __str__(self) -> str:
        return f"{self.bits:04o}" if self.bits is not None else str(self.symbolic)


def describe_info(info: FileInfo) -> str:
    """``mode 0644, root:root`` — for no-op reasons."""
    return f"mode {info.mode:04o}, {info.owner}:{info.group}"


@dataclass(frozen=True, slots=True)
class Attrs:
    """Desired mode / owner / group of a path (None: leave as is)."""

    mode: Mode | None = None
    owner: str | None = None
    group: str | None = None

    @classmethod
    def of(
        cls, mode: str | int | Mode | None, owner: str | int | None, group: str | int | None
    ) -> Attrs:
        return cls(Mode.parse(mode), _name(owner, "owner"), _name(group, "group"))

    def desired_mode(self, info: FileInfo | None, *, is_dir: bool) -> int | None:
        default = DEFAULT_DIR_MODE if is_dir else DEFAULT_FILE_MODE
        if self.mode is None:
            return None
        return self.mode.resolve(info.mode if info is not None else default, is_dir=is_dir)

    def fixups(
        self,
        path: str,
        info: FileInfo | None,
        *,
        is_dir: bool,
        no_dereference: bool = False,
    ) -> tuple[list[Action], list[DiffItem]]:
        """chmod/chown/chgrp for what differs (everything given, when ``info`` is None:
        the path is being created by an earlier action of the same operation)."""
        actions: list[Action] = []
        diff: list[DiffItem] = []
        flags = ["-h"] if no_dereference else []
        mode = self.desired_mode(info, is_dir=is_dir)
        if mode is not None and (info is None or info.mode != mode):
            actions.append(Command.build("chmod", f"{mode:04o}", path))
            diff.append(DiffItem("mode", f"{info.mode:04o}" if info else None, f"{mode:04o}"))
        owner = (
            self.owner
            if self.owner and (info is None or not info.owner_matches(self.owner))
            else None
        )
        group = (
            self.group
            if self.group and (info is None or not info.group_matches(self.group))
            else None
        )
        if owner:
            spec = f"{owner}:{group}" if group else owner
            actions.append(Command.build("chown", *flags, spec, path))
        elif group:
            actions.append(Command.build("chgrp", *flags, group, path))
        if owner:
            diff.append(DiffItem("owner", info.owner if info else None, owner))
        if group:
            diff.append(DiffItem("group", info.group if info else None, group))
        return actions, diff

    def tree_fixups(self, path: str, mode_drift: bool, owner_drift: bool) -> list[Action]:
        """Recursive fix-ups when something under ``path`` differs."""
        actions: list[Action] = []
        if self.mode is not None and mode_drift:
            actions.append(Command.build("chmod", "-R", str(self.mode), path))
        if owner_drift and self.owner:
            spec = f"{self.owner}:{self.group}" if self.group else self.owner
            actions.append(Command.build("chown", "-R", spec, path))
        elif owner_drift and self.group:
            actions.append(Command.build("chgrp", "-R", self.group, path))
        return actions


def predict(
    path: str,
    base: FileInfo | None,
    kind: str,
    attrs: Attrs,
    *,
    data: bytes | None = None,
    mode: int | None = None,
    link_target: str | None = None,
) -> FileInfo:
    """What will be at ``path`` once a change is applied (for later operations' plans).
    Unknown owners are ``?`` with id -1 (a later fix-up then runs rather than not)."""
    same = base if base is not None and base.type == kind else None
    if mode is None:
        mode = attrs.desired_mode(same, is_dir=kind == "directory")
    if mode is None:
        defaults = {"directory": DEFAULT_DIR_MODE, "link": 0o777}
        mode = same.mode if same else defaults.get(kind, DEFAULT_FILE_MODE)
    owner, uid = _who(attrs.owner, same.owner if same else None, same.uid if same else None)
    group, gid = _who(attrs.group, same.group if same else None, same.gid if same else None)
    if data is None and same is not None:
        return replace(same, mode=mode, owner=owner, group=group, uid=uid, gid=gid)
    content = data if data is not None and len(data) <= CONTENT_LIMIT else None
    return FileInfo(
        path=path,
        type=kind,
        mode=mode,
        owner=owner,
        group=group,
        uid=uid,
        gid=gid,
        size=len(data) if data is not None else len(link_target or ""),
        mtime=0,
        sha256=hashlib.sha256(data).hexdigest() if data is not None else None,
        link_target=link_target,
        content=content,
        too_big=data is not None and content is None,
    )


def _who(wanted: str | None, name: str | None, number: int | None) -> tuple[str, int]:
    known = name is not None and number is not None
    if wanted is None or (known and wanted in (name, str(number))):
        return (name, number) if name is not None and number is not None else ("?", -1)
    return (wanted, int(wanted)) if wanted.isdigit() else (wanted, -1)


def settled(path: str, info: FileInfo | None) -> tuple[tuple[Fact[Any], Any], ...]:
    """``Change.facts_after`` for ``path``: both forms of its FileState fact."""
    if info is None:
        return ((FileState(path), None), (FileState(path, content=True), None))
    bare = replace(info, content=None, too_big=False)
    return ((FileState(path), bare), (FileState(path, content=True), info))


def fixed(
    path: str, facts: FactCache, kind: str, attrs: Attrs
) -> tuple[tuple[Fact[Any], Any], ...]:
    """``Change.facts_after`` for a mode/owner fix-up: both forms of the path's FileState
    (those gathered), with the new attributes and the content kept."""
    out: list[tuple[Fact[Any], Any]] = []
    for fact in (FileState(path), FileState(path, content=True)):
        if facts.has(fact) and (info := facts.get(fact)) is not None:
            out.append((fact, predict(path, info, kind, attrs)))
    return tuple(out)


def _name(value: str | int | None, what: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InputError(f"invalid {what} {value!r}")
    text = str(value)
    if not re.fullmatch(r"[^\s:/,]+", text):
        raise InputError(f"invalid {what} {text!r}")
    return text
