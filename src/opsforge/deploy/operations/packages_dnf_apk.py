"""dnf/yum (rpm hosts) and apk (Alpine): packages present, absent or at the newest version.

Installed versions come from ``rpm -qa`` / ``apk info -v``; for ``latest``, the
upgrades the manager already knows of (``dnf check-update --cacheonly``,
``apk version -l '<'``). Pins are written ``name=version`` as for apt (a glob is
allowed for dnf) and passed on in the manager's own syntax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from opsforge.deploy.commands import Command, quote
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.packages import (
    ApkPackages,
    ApkUpgrades,
    DnfUpdates,
    Installed,
    PackageInfo,
    RpmPackages,
)
from opsforge.deploy.operation import Change, DiffItem, Operation, PlanEnv
from opsforge.deploy.operations.packages_apt import STATES, PackageSpec
from opsforge.deploy.operations.packages_versions import glob_match
from opsforge.errors import InputError, PlanError

__all__ = ["Apk", "Dnf"]


def _matches(have: str, pin: str) -> bool:
    """rpm versions are ``[epoch:]version-release``: a pin may name the version only."""
    bare = have.split(":", 1)[1] if ":" in have else have
    return any(glob_match(v, pin) for v in (have, bare, bare.rsplit("-", 1)[0]))


@dataclass(frozen=True)
class _Simple(Operation):
    """What dnf and apk share: compare installed versions, one install / one remove call."""

    packages: tuple[PackageSpec, ...]
    state: str = "present"
    update_cache: bool = False

    tool: ClassVar[str]

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise InputError(
                f"{self.tool}: unknown state {self.state!r} (one of {', '.join(STATES)})"
            )
        if not self.packages and not self.update_cache:
            raise InputError(f"{self.tool}: give packages, or update_cache")
        if self.state == "latest" and any(s.version for s in self.packages):
            raise InputError(f"{self.tool}: state=latest with a pinned version")

    def describe(self) -> str:
        verb = {"present": "install", "absent": "remove", "latest": "upgrade"}[self.state]
        return f"{self.tool} {verb} {', '.join(str(s) for s in self.packages)}".rstrip()

    def _installed_fact(self) -> Fact[Installed | None]:
        raise NotImplementedError

    def _upgrades_fact(self) -> Fact[Any] | None:
        raise NotImplementedError

    def _word(self, spec: PackageSpec) -> str:
        raise NotImplementedError

    def _commands(self, verb: str, words: list[str]) -> list[Command]:
        raise NotImplementedError

    def facts(self) -> tuple[Fact[Any], ...]:
        found: list[Fact[Any]] = [self._installed_fact()] if self.packages else []
        upgrades = self._upgrades_fact()
        if upgrades is not None:
            found.append(upgrades)
        return tuple(found)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        installed: Installed = {}
        if self.packages:
            value = facts.get(self._installed_fact())
            if value is None:
                raise PlanError(f"{self.tool}: not found on the host", host=env.host)
            installed = value
        upgrades: dict[str, str] = {}
        fact = self._upgrades_fact()
        if fact is not None:
            upgrades = dict(facts.get(fact) or {})
        install: list[str] = []
        upgrade: list[str] = []
        remove: list[str] = []
        diff: list[DiffItem] = []
        after = dict(installed)
        for spec in self.packages:
            have = installed.get(spec.name)
            pinned_ok = have is not None and (
                spec.version is None or _matches(have.version, spec.version)
            )
            if self.state == "absent":
                if pinned_ok and have is not None:
                    remove.append(spec.name)
                    diff.append(DiffItem(spec.name, have.version, None))
                    del after[spec.name]
            elif have is None or not pinned_ok:
                install.append(self._word(spec))
                diff.append(
                    DiffItem(spec.name, have.version if have else None, spec.version or "newest")
                )
                after[spec.name] = PackageInfo(spec.version or "?")
            elif self.state == "latest" and spec.name in upgrades:
                upgrade.append(spec.name)
                diff.append(DiffItem(spec.name, have.version, upgrades[spec.name]))
                after[spec.name] = PackageInfo(upgrades[spec.name])
        actions: list[Command] = self._commands("update", []) if self.update_cache else []
        if install:
            actions += self._commands("install", install)
        if upgrade:
            actions += self._commands("upgrade", upgrade)
        if remove:
            actions += self._commands("remove", remove)
        changed = bool(install or upgrade or remove)
        if not actions:
            names = ", ".join(s.name for s in self.packages)
            return Change.noop(
                f"not installed: {names}" if self.state == "absent" else f"installed: {names}"
            )
        facts_after: tuple[tuple[Fact[Any], Any], ...] = ()
        if self.packages and changed:
            facts_after = ((self._installed_fact(), after),)
        return Change(tuple(actions), tuple(diff), changed=changed, facts_after=facts_after)


@dataclass(frozen=True)
class Dnf(_Simple):
    """``manager``: dnf, or yum for older hosts."""

    manager: str = "dnf"

    kind: ClassVar[str] = "packages.dnf"
    tool: ClassVar[str] = "dnf"

    def describe(self) -> str:
        return super().describe().replace("dnf", self.manager, 1)

    def _installed_fact(self) -> Fact[Installed | None]:
        return RpmPackages()

    def _upgrades_fact(self) -> Fact[Any] | None:
        if self.state != "latest" or not self.packages:
            return None
        return DnfUpdates(tuple(s.name for s in self.packages))

    def _word(self, spec: PackageSpec) -> str:
        return quote(f"{spec.name}-{spec.version}" if spec.version else spec.name)

    def _commands(self, verb: str, words: list[str]) -> list[Command]:
        if verb == "update":
            return [Command(f"{self.manager} -q makecache")]
        return [Command(" ".join([self.manager, "-y", "-q", verb, *words]))]


@dataclass(frozen=True)
class Apk(_Simple):
    kind: ClassVar[str] = "packages.apk"
    tool: ClassVar[str] = "apk"

    def _installed_fact(self) -> Fact[Installed | None]:
        return ApkPackages()

    def _upgrades_fact(self) -> Fact[Any] | None:
        if self.state != "latest" or not self.packages:
            return None
        return ApkUpgrades(tuple(s.name for s in self.packages))

    def _word(self, spec: PackageSpec) -> str:
        return quote(f"{spec.name}={spec.version}" if spec.version else spec.name)

    def _commands(self, verb: str, words: list[str]) -> list[Command]:
        apk = {"update": "update", "install": "add", "upgrade": "add -u", "remove": "del"}[verb]
        return [Command(" ".join(["apk", "--no-progress", "-q", apk, *words]))]
