"""Facts of a host's running state: a user's crontab, kernel parameters (sysctl), the
hostname, what is mounted. Files (``/etc/fstab``, ``/etc/hostname``, sysctl.d files)
are read with :class:`~opsforge.deploy.facts.files.FileState`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from opsforge.deploy.commands import quote
from opsforge.deploy.facts.base import Fact

__all__ = ["Crontab", "Hostname", "MountInfo", "Mounts", "SysctlValue", "unescape_octal"]


@dataclass(frozen=True, slots=True)
class Crontab(Fact[str | None]):
    """The crontab of ``user`` (None: the connecting user) as text; None when there is
    none (or no ``crontab`` command yet)."""

    user: str | None = None

    name: ClassVar[str] = "crontab"
    needs_become: ClassVar[bool] = True

    def command(self) -> str:
        who = f" -u {quote(self.user)}" if self.user else ""
        return (
            "export LC_ALL=C\n"
            "command -v crontab >/dev/null 2>&1 || { echo 'no crontab'; exit 0; }\n"
            f"if t=$(crontab{who} -l 2>&1); then echo crontab; printf '%s\\n' \"$t\"\n"
            "else case $t in *'no crontab for'*) echo none;; *) printf 'error %s\\n' \"$t\";; "
            "esac; fi"
        )

    def parse(self, output: str, exit_code: int) -> str | None:
        head, _, rest = output.partition("\n")
        if head in ("none", "no crontab"):  # no crontab command yet: cron may be installed
            return None  # by an earlier operation of this run
        if head.startswith("error"):
            raise ValueError(f"crontab -l failed: {head[6:]}")
        if head != "crontab":
            raise ValueError("expected 'crontab' or 'none' first")
        text = rest[:-1] if rest.endswith("\n") else rest
        return text + "\n" if text else ""


_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./*-]*$")


@dataclass(frozen=True, slots=True)
class SysctlValue(Fact[str | None]):
    """The running value of kernel parameter ``key`` (whitespace runs made one space);
    None when the kernel has no such key."""

    key: str

    name: ClassVar[str] = "sysctl"

    def __post_init__(self) -> None:
        if not _KEY.match(self.key):
            raise ValueError(f"bad sysctl key {self.key!r}")

    def _one(self) -> str:
        k = quote(self.key)
        proc = quote("/proc/sys/" + self.key.replace(".", "/"))
        return (
            f"if command -v sysctl >/dev/null 2>&1; then v=$(sysctl -n -- {k} 2>/dev/null) "
            f"|| v='<unknown>'; elif [ -r {proc} ]; then v=$(cat {proc}); else v='<unknown>'; fi\n"
            "printf 'value %s\\n' \"$(printf %s \"$v\" | tr '\\t\\n' '  ')\""
        )

    def command(self) -> str:
        return self._one()

    @classmethod
    def command_many(cls, facts: Sequence[Fact[Any]]) -> str | None:
        return "\n".join(f._one() for f in facts if isinstance(f, SysctlValue))

    @classmethod
    def parse_many(cls, facts: Sequence[Fact[Any]], output: str, exit_code: int) -> list[Any]:
        lines = [line for line in output.split("\n") if line.startswith("value")]
        if len(lines) != len(facts):
            raise ValueError(f"expected {len(facts)} value lines, got {len(lines)}")
        return [f.parse(line, exit_code) for f, line in zip(facts, lines, strict=True)]

    def parse(self, output: str, exit_code: int) -> str | None:
        line = output.strip()
        if not line.startswith("value"):
            raise ValueError("no value line")
        value = " ".join(line[5:].split())
        return None if value == "<unknown>" else value


@dataclass(frozen=True, slots=True)
class Hostname(Fact[str]):
    """The running hostname (``hostname``, else ``uname -n``)."""

    name: ClassVar[str] = "hostname"

    def command(self) -> str:
        return "hostname 2>/dev/null || uname -n"

    def parse(self, output: str, exit_code: int) -> str:
        value = output.strip()
        if exit_code != 0 or not value or "\n" in value:
            raise ValueError(f"expected one hostname line (exit {exit_code})")
        return value


@dataclass(frozen=True, slots=True)
class MountInfo:
    src: str
    path: str
    fstype: str
    opts: str


def unescape_octal(text: str) -> str:
    """``\\040`` -> space, as /proc/mounts and fstab write blanks in paths."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), text)


@dataclass(frozen=True, slots=True)
class Mounts(Fact[tuple[MountInfo, ...]]):
    """What is mounted (``/proc/mounts``), in mount order (the last mount of a path is
    the visible one)."""

    name: ClassVar[str] = "mounts"

    def command(self) -> str:
        return "cat /proc/mounts"

    def parse(self, output: str, exit_code: int) -> tuple[MountInfo, ...]:
        if exit_code != 0:
            raise ValueError(f"cannot read /proc/mounts (exit {exit_code})")
        found = []
        for number, line in enumerate(output.split("\n"), 1):
            if not line.strip():
                continue
            fields = line.split()
            if len(fields) < 4:
                raise ValueError(f"line {number}: expected src, path, type, options: {line!r}")
            found.append(MountInfo(*(unescape_octal(f) for f in fields[:4])))
        if not found:
            raise ValueError("nothing mounted at all (not even /)")
        return tuple(found)
