"""Package facts: what is installed (dpkg, rpm, apk), what apt would install, how old the apt
cache is, which package managers a host has, which upgrades dnf/apk see.

Each command checks that its binary exists first and says so (``no dpkg-query``)
instead of failing, so one fact set fits every host: :class:`PackageManager` tells
the ``package`` operation which of them to believe. Commands run with ``LC_ALL=C``.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from opsforge.deploy.facts.base import Fact

__all__ = [
    "APT_STAMP",
    "ApkPackages",
    "ApkUpgrades",
    "AptCacheAge",
    "AptCandidate",
    "AptPolicy",
    "DebPackages",
    "DnfUpdates",
    "PackageInfo",
    "PackageManager",
    "RpmPackages",
]

#: touched after every successful ``apt-get update`` (the stamp Ansible and
#: update-notifier read); the apt cache's age is measured from it
APT_STAMP = "/var/lib/apt/periodic/update-success-stamp"


@dataclass(frozen=True, slots=True)
class PackageInfo:
    """An installed package (``state``: installed, config-files: removed but its
    configuration is kept, half-installed: unpacked or failed to configure)."""

    version: str
    state: str = "installed"

    @property
    def installed(self) -> bool:
        return self.state == "installed"


Installed = Mapping[str, PackageInfo]


def _guard(binary: str) -> str:
    return (
        f"export LC_ALL=C\ncommand -v {binary} >/dev/null 2>&1 || {{ echo 'no {binary}'; exit 0; }}"
    )


def _missing(output: str, binary: str) -> bool:
    return output.strip() == f"no {binary}"


def _expect_ok(exit_code: int, output: str) -> None:
    if exit_code != 0:
        first = output.strip().split("\n")[0] if output.strip() else ""
        raise ValueError(f"exit {exit_code}: {first}" if first else f"exit {exit_code}")


# dpkg's Status-Abbrev: desired, status, error flag. Status i/W/t: installed (W, t:
# triggers pending), c: config-files, n: not installed, U/F/H: half-installed.
_DPKG_STATES = {"i": "installed", "W": "installed", "t": "installed", "c": "config-files"}
_DPKG_STATES.update({"U": "half-installed", "F": "half-installed", "H": "half-installed"})


@dataclass(frozen=True, slots=True)
class DebPackages(Fact[Installed | None]):
    """Installed Debian packages: name (and ``name:arch``) -> PackageInfo; None without dpkg."""

    name: ClassVar[str] = "deb packages"

    def command(self) -> str:
        fmt = "${Package}\\t${Version}\\t${db:Status-Abbrev}\\t${Architecture}\\n"
        return f"{_guard('dpkg-query')}\ndpkg-query -W -f='{fmt}'"

    def parse(self, output: str, exit_code: int) -> Installed | None:
        if _missing(output, "dpkg-query"):
            return None
        _expect_ok(exit_code, output)
        found: dict[str, PackageInfo] = {}
        for number, line in enumerate(output.split("\n"), 1):
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) < 3 or len(fields[2]) < 2:
                raise ValueError(f"line {number}: expected name, version, status: {line!r}")
            name, version, status = fields[0], fields[1], fields[2]
            state = _DPKG_STATES.get(status[1])
            if state is None:  # not installed (only known to dpkg)
                continue
            info = PackageInfo(version, state)
            keys = [name] + ([f"{name}:{fields[3]}"] if len(fields) > 3 and fields[3] else [])
            for key in keys:
                if key not in found or info.installed:
                    found[key] = info
        return found


@dataclass(frozen=True, slots=True)
class AptCandidate:
    """What ``apt-cache policy`` says of a package (versions: newest first, as apt lists)."""

    installed: str | None
    candidate: str | None
    versions: tuple[str, ...] = ()


_VERSION_LINE = re.compile(r"^ (?:\*\*\*|   ) (\S+) (-?\d+)$")


def _none(value: str) -> str | None:
    value = value.strip()
    return None if value in ("(none)", "") else value


@dataclass(frozen=True, slots=True)
class AptPolicy(Fact[Mapping[str, AptCandidate] | None]):
    """``apt-cache policy`` of ``packages``: name -> AptCandidate; a name apt does not know
    is left out. None without apt-cache."""

    packages: tuple[str, ...]

    name: ClassVar[str] = "apt policy"

    def command(self) -> str:
        names = " ".join(shlex.quote(p) for p in self.packages)
        return f"{_guard('apt-cache')}\napt-cache policy {names}"

    @classmethod
    def command_many(cls, facts: Sequence[Fact[Any]]) -> str | None:
        names = sorted({p for f in facts if isinstance(f, AptPolicy) for p in f.packages})
        return AptPolicy(tuple(names)).command()

    @classmethod
    def parse_many(cls, facts: Sequence[Fact[Any]], output: str, exit_code: int) -> list[Any]:
        everything = AptPolicy(()).parse(output, exit_code)
        out: list[Any] = []
        for fact in facts:
            assert isinstance(fact, AptPolicy)
            out.append(
                None
                if everything is None
                else {p: everything[p] for p in fact.packages if p in everything}
            )
        return out

    def parse(self, output: str, exit_code: int) -> Mapping[str, AptCandidate] | None:
        if _missing(output, "apt-cache"):
            return None
        _expect_ok(exit_code, output)
        found: dict[str, AptCandidate] = {}
        current: str | None = None
        fields: dict[str, str] = {}
        versions: list[str] = []

        def close() -> None:
            if current is not None:
                if "Candidate" not in fields:
                    raise ValueError(f"{current}: no Candidate line")
                found[current] = AptCandidate(
                    _none(fields.get("Installed", "")), _none(fields["Candidate"]), tuple(versions)
                )

        for line in output.split("\n"):
            if not line.strip() or line.startswith(("N: ", "W: ", "E: ")):
                continue
            if not line.startswith(" ") and line.endswith(":"):
                close()
                current, fields, versions = line[:-1], {}, []
                continue
            if current is None:
                raise ValueError(f"unexpected line before a package name: {line!r}")
            version = _VERSION_LINE.match(line)
            if version:
                versions.append(version[1])
                continue
            key, sep, value = line.strip().partition(":")
            if sep and key in ("Installed", "Candidate"):
                fields[key] = value
        close()
        return found


@dataclass(frozen=True, slots=True)
class AptCacheAge(Fact[int | None]):
    """Seconds since the apt lists were last updated (the newer of the success stamp and
    the lists directory); None when there are no lists (never updated)."""

    name: ClassVar[str] = "apt cache age"

    def command(self) -> str:
        return (
            "export LC_ALL=C\n"
            "set -- /var/lib/apt/lists/*Release\n"
            '[ -e "$1" ] || { echo never; exit 0; }\n'
            'echo "now $(date +%s)"\n'
            "stat -c 'mtime %Y' /var/lib/apt/lists " + APT_STAMP + " 2>/dev/null || :"
        )

    def parse(self, output: str, exit_code: int) -> int | None:
        words = output.split()
        if words == ["never"]:
            return None
        now: int | None = None
        newest = -1
        for line in output.split("\n"):
            key, _, value = line.partition(" ")
            if key in ("now", "mtime"):
                if not value.strip().isdigit():
                    raise ValueError(f"bad {key} line: {line!r}")
                if key == "now":
                    now = int(value)
                else:
                    newest = max(newest, int(value))
        if now is None or newest < 0:
            raise ValueError("expected 'now' and 'mtime' lines")
        return max(0, now - newest)


@dataclass(frozen=True, slots=True)
class RpmPackages(Fact[Installed | None]):
    """Installed rpm packages: name -> PackageInfo (``[epoch:]version-release``)."""

    name: ClassVar[str] = "rpm packages"

    def command(self) -> str:
        fmt = r"%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\t%{ARCH}\n"
        return f"{_guard('rpm')}\nrpm -qa --qf '{fmt}'"

    def parse(self, output: str, exit_code: int) -> Installed | None:
        if _missing(output, "rpm"):
            return None
        _expect_ok(exit_code, output)
        found: dict[str, PackageInfo] = {}
        for number, line in enumerate(output.split("\n"), 1):
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) < 2 or not fields[0] or not fields[1]:
                raise ValueError(f"line {number}: expected name and version: {line!r}")
            found.setdefault(fields[0], PackageInfo(fields[1]))
            if len(fields) > 2 and fields[2]:
                found.setdefault(f"{fields[0]}.{fields[2]}", PackageInfo(fields[1]))
        return found


_APK_NAME = re.compile(r"^(.+)-(\d[^-]*-r\d+)$")


@dataclass(frozen=True, slots=True)
class ApkPackages(Fact[Installed | None]):
    """Installed Alpine packages (``apk info -v``: ``name-version-rN``)."""

    name: ClassVar[str] = "apk packages"

    def command(self) -> str:
        return f"{_guard('apk')}\napk info -v 2>/dev/null"

    def parse(self, output: str, exit_code: int) -> Installed | None:
        if _missing(output, "apk"):
            return None
        _expect_ok(exit_code, output)
        found: dict[str, PackageInfo] = {}
        for line in output.split("\n"):
            line = line.strip()
            if not line or line.startswith("WARNING"):
                continue
            m = _APK_NAME.match(line)
            if not m:
                raise ValueError(f"not name-version-rN: {line!r}")
            found[m[1]] = PackageInfo(m[2])
        return found


@dataclass(frozen=True, slots=True)
class DnfUpdates(Fact[Mapping[str, str] | None]):
    """Upgrades dnf (or yum) knows of for ``packages``, from its cache: name -> version."""

    packages: tuple[str, ...]

    name: ClassVar[str] = "dnf updates"

    def command(self) -> str:
        names = " ".join(shlex.quote(p) for p in self.packages)
        return (
            "export LC_ALL=C\n"
            "if command -v dnf >/dev/null 2>&1; then m=dnf\n"
            "elif command -v yum >/dev/null 2>&1; then m=yum\n"
            "else echo 'no dnf'; exit 0; fi\n"
            f'r=0; "$m" -q --cacheonly check-update {names} || r=$?\n'
            'echo "exit $r"'
        )

    def parse(self, output: str, exit_code: int) -> Mapping[str, str] | None:
        if _missing(output, "dnf"):
            return None
        lines = output.rstrip("\n").split("\n")
        last = lines[-1].split()
        if len(last) != 2 or last[0] != "exit" or not last[1].isdigit():
            raise ValueError("no exit status line")
        if last[1] not in ("0", "100"):  # 100: updates available
            raise ValueError(f"check-update failed (exit {last[1]}): {' '.join(lines[:-1])[:200]}")
        found: dict[str, str] = {}
        for line in lines[:-1]:
            fields = line.split()
            if len(fields) != 3 or "." not in fields[0] or line.startswith(" "):
                continue  # headers, "Obsoleting Packages", wrapped lines
            name = fields[0].rsplit(".", 1)[0]
            found[name] = fields[1]
        return found


@dataclass(frozen=True, slots=True)
class ApkUpgrades(Fact[Mapping[str, str] | None]):
    """Upgrades apk knows of for ``packages`` (``apk version -l '<'``): name -> version."""

    packages: tuple[str, ...]

    name: ClassVar[str] = "apk upgrades"

    def command(self) -> str:
        names = " ".join(shlex.quote(p) for p in self.packages)
        return f"{_guard('apk')}\napk version -l '<' {names}"

    def parse(self, output: str, exit_code: int) -> Mapping[str, str] | None:
        if _missing(output, "apk"):
            return None
        _expect_ok(exit_code, output)
        found: dict[str, str] = {}
        for line in output.split("\n"):
            left, sep, right = line.partition("<")
            m = _APK_NAME.match(left.strip())
            if sep and m and right.strip():
                found[m[1]] = right.strip().split()[0]
        return found


_MANAGERS = ("apt-get", "dnf", "yum", "apk")


@dataclass(frozen=True, slots=True)
class PackageManager(Fact[tuple[str, ...]]):
    """Which of apt-get, dnf, yum and apk the host has (in that order of preference)."""

    name: ClassVar[str] = "package managers"

    def command(self) -> str:
        return "; ".join(f"command -v {m} >/dev/null 2>&1 && echo {m}" for m in _MANAGERS) + "; :"

    def parse(self, output: str, exit_code: int) -> tuple[str, ...]:
        words = output.split()
        unknown = [w for w in words if w not in _MANAGERS]
        if unknown:
            raise ValueError(f"unexpected output {unknown[0]!r}")
        return tuple(m for m in _MANAGERS if m in words)
