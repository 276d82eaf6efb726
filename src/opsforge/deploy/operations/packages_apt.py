"""apt: Debian packages present, absent, at the newest version or at a pinned one.

Reads what dpkg has installed, what ``apt-cache policy`` would install and (with
``cache_valid_time``) how old the apt lists are; then plans one ``apt-get`` call for
every package that must change. The cache is updated only when needed:

- ``cache_valid_time=N``: when the lists are older than N seconds (or were never fetched);
- ``update_cache`` without it: right before an install, and never when nothing is to
  install (so a second run changes nothing); alone (no packages), every run, reported
  as *ok* rather than *changed*.

``state="latest"`` compares installed versions with the candidates of the lists
as they are; when the cache is about to be updated every ``latest`` package goes
into the install call (apt leaves the newest ones alone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from opsforge.deploy.commands import Command
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.packages import (
    APT_STAMP,
    AptCacheAge,
    AptCandidate,
    AptPolicy,
    DebPackages,
    Installed,
    PackageInfo,
)
from opsforge.deploy.operation import Change, DiffItem, Operation, PlanEnv
from opsforge.deploy.operations.packages_versions import deb_compare, glob_match
from opsforge.errors import InputError, PlanError

__all__ = ["APT_GET", "Apt", "PackageSpec", "ages", "split_specs"]

APT_GET = (
    "DEBIAN_FRONTEND=noninteractive apt-get -y -q "
    "-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"
)
_DEB_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]*(?::[a-z0-9-]+)?$")
_DEB_VERSION = re.compile(r"^[A-Za-z0-9.+:~*?\[\]-]+$")
STATES = ("present", "absent", "latest")


@dataclass(frozen=True, slots=True)
class PackageSpec:
    """``name`` or ``name=version`` (the version may be a glob: ``1.22*``)."""

    name: str
    version: str | None = None

    @property
    def is_glob(self) -> bool:
        return self.version is not None and any(c in self.version for c in "*?[")

    def __str__(self) -> str:
        return f"{self.name}={self.version}" if self.version else self.name


def split_specs(
    packages: str | list[str] | tuple[str, ...], what: str, name_re: re.Pattern[str] | None
) -> tuple[PackageSpec, ...]:
    """Package arguments as specs: a list, or one string of comma/space separated names."""
    items = [packages] if isinstance(packages, str) else list(packages)
    words = [w for item in items for w in re.split(r"[,\s]+", str(item).strip()) if w]
    specs = []
    for word in words:
        name, sep, version = word.partition("=")
        if name_re is not None and not name_re.match(name):
            raise InputError(f"{what}: {name!r} is not a valid package name")
        if sep and not (version and _DEB_VERSION.match(version)):
            raise InputError(f"{what}: {word!r}: bad version pin")
        specs.append(PackageSpec(name, version if sep else None))
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise InputError(f"{what}: {spec.name} is listed twice")
        seen.add(spec.name)
    return tuple(specs)


def ages(seconds: int | None) -> str:
    if seconds is None:
        return "never updated"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"updated {seconds // size} {unit} ago"
    return f"updated {seconds} s ago"


def _refuse(env: PlanEnv, message: str) -> PlanError:
    return PlanError(f"apt: {message}", host=env.host)


@dataclass(frozen=True)
class Apt(Operation):
    packages: tuple[PackageSpec, ...]
    state: str = "present"
    update_cache: bool = False
    cache_valid_time: int | None = None
    install_recommends: bool | None = None
    purge: bool = False
    allow_downgrade: bool = False

    kind: ClassVar[str] = "packages.apt"

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise InputError(f"apt: unknown state {self.state!r} (one of {', '.join(STATES)})")
        if self.state == "latest" and any(s.version for s in self.packages):
            pinned = ", ".join(str(s) for s in self.packages if s.version)
            raise InputError(f"apt: state=latest with a pinned version ({pinned})")
        if not self.packages and not (self.update_cache or self.cache_valid_time is not None):
            raise InputError("apt: give packages, or update_cache")
        if self.cache_valid_time is not None and self.cache_valid_time < 0:
            raise InputError("apt: cache_valid_time must be >= 0 seconds")

    def describe(self) -> str:
        names = ", ".join(str(s) for s in self.packages)
        if not names:
            return "apt update"
        verb = {"present": "install", "absent": "remove", "latest": "upgrade"}[self.state]
        return f"apt {verb} {names}"

    @property
    def _checks_age(self) -> bool:
        return self.cache_valid_time is not None

    def _policy(self) -> AptPolicy | None:
        names = tuple(s.name for s in self.packages)
        return AptPolicy(names) if names and self.state != "absent" else None

    def facts(self) -> tuple[Fact[Any], ...]:
        found: list[Fact[Any]] = [DebPackages()] if self.packages else []
        policy = self._policy()
        if policy is not None:
            found.append(policy)
        if self._checks_age:
            found.append(AptCacheAge())
        return tuple(found)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        installed: Installed = {}
        if self.packages:
            value = facts.get(DebPackages())
            if value is None:
                raise _refuse(env, "dpkg-query not found: not a Debian-family host")
            installed = value
        policy: dict[str, AptCandidate] = {}
        fact = self._policy()
        if fact is not None:
            value_p = facts.get(fact)
            if value_p is None:
                raise _refuse(env, "apt-cache not found: not a Debian-family host")
            policy = dict(value_p)
        age = facts.get(AptCacheAge()) if self._checks_age else None
        stale = self._checks_age and (age is None or age > (self.cache_valid_time or 0))
        if self.state == "absent":
            return self._remove(installed, stale, age)
        # an earlier apt operation of this run updates the lists (its facts_after): what
        # apt-cache knew before may be missing packages the update brings
        refreshed = facts.has(AptCacheAge()) and facts.get(AptCacheAge()) == 0
        return self._install(installed, policy, stale, age, env, refreshed)

    # ---- present / latest --------------------------------------------------------------

    def _target(
        self, spec: PackageSpec, have: PackageInfo | None, info: AptCandidate | None, env: PlanEnv
    ) -> str | None:
        """The version to install for ``spec`` ("" : apt's choice), or None: nothing to do."""
        ok = have is not None and have.installed
        if spec.version is None:
            if self.state == "present" and ok:
                return None
            if self.state == "latest" and ok and have is not None:
                candidate = info.candidate if info else None
                if candidate is None or deb_compare(candidate, have.version) <= 0:
                    return None
                return candidate
            return (info.candidate if info else None) or ""
        if ok and have is not None and glob_match(have.version, spec.version):
            return None
        if not spec.is_glob:
            return spec.version
        matching = [v for v in (info.versions if info else ()) if glob_match(v, spec.version)]
        if not matching:
            raise _refuse(env, f"no version of {spec.name} matches {spec.version}")
        return max(matching, key=_DebKey)

    def _install(
        self,
        installed: Installed,
        policy: dict[str, AptCandidate],
        stale: bool,
        age: int | None,
        env: PlanEnv,
        refreshed: bool = False,
    ) -> Change:
        words: list[str] = []
        diff: list[DiffItem] = []
        after = dict(installed)
        downgrade = False
        for spec in self.packages:
            have = installed.get(spec.name)
            info = policy.get(spec.name)
            if info is None and not (stale or refreshed) and not (have and have.installed):
                raise _refuse(
                    env,
                    f"no package {spec.name} is known to apt "
                    "(a typo, or the lists need update_cache=True)",
                )
            target = self._target(spec, have, info, env)
            if target is None:
                if not (stale and self.state == "latest"):
                    continue
                target = ""  # re-check after the update: apt keeps the newest
            before = have.version if have and have.installed else None
            lower = bool(spec.version and target) and have is not None and have.installed
            if lower and have is not None and deb_compare(target, have.version) < 0:
                if not self.allow_downgrade:
                    raise _refuse(
                        env,
                        f"{spec.name} {have.version} is newer than {target} "
                        "(allow_downgrade=True to downgrade)",
                    )
                downgrade = True
            words.append(f"{spec.name}={target}" if spec.version and target else spec.name)
            shown = target or ("newest after update" if stale else "newest")
            if before != target:
                diff.append(DiffItem(spec.name, before, shown))
            after[spec.name] = PackageInfo(target or (have.version if have else "?"))
        actions: list[Command] = []
        updating = stale or (bool(words) and self.update_cache and not self._checks_age)
        if updating:
            actions += _update()
            before = ages(age) if self._checks_age else "not checked"
            diff.insert(0, DiffItem("apt cache", before, "updated"))
        if words:
            flags = _recommends(self.install_recommends) + (
                ["--allow-downgrades"] if downgrade else []
            )
            actions.append(Command(" ".join([APT_GET, *flags, "install", *words])))
        if not actions and not self.packages and not self._checks_age:
            # update_cache alone: every run, reported ok
            return Change(tuple(_update()), changed=False, facts_after=((AptCacheAge(), 0),))
        if not actions:
            return Change.noop(self._noop_reason(installed, age))
        facts_after: list[tuple[Fact[Any], Any]] = []
        if self.packages:
            facts_after.append((DebPackages(), after))
        if updating:
            facts_after.append((AptCacheAge(), 0))
        return Change(tuple(actions), tuple(diff), facts_after=tuple(facts_after))

    def _noop_reason(self, installed: Installed, age: int | None) -> str:
        if not self.packages:
            return f"apt cache {ages(age)} (valid for {self.cache_valid_time} s)"
        have = ", ".join(f"{s.name} {installed[s.name].version}" for s in self.packages)
        what = "newest versions installed" if self.state == "latest" else "installed"
        return f"{what}: {have}"

    # ---- absent ------------------------------------------------------------------------

    def _remove(self, installed: Installed, stale: bool, age: int | None) -> Change:
        names: list[str] = []
        diff: list[DiffItem] = []
        after = dict(installed)
        for spec in self.packages:
            have = installed.get(spec.name)
            if have is None:
                continue
            if spec.version and not glob_match(have.version, spec.version):
                continue
            if have.state == "config-files" and not self.purge:
                continue
            names.append(spec.name)
            before = have.version if have.state != "config-files" else "config files"
            diff.append(DiffItem(spec.name, before, None))
            del after[spec.name]
        actions: list[Command] = _update() if stale else []
        if stale:
            diff.insert(0, DiffItem("apt cache", ages(age), "updated"))
        if names:
            verb = "purge" if self.purge else "remove"
            actions.append(Command(" ".join([APT_GET, verb, *names])))
        if not actions:
            listed = ", ".join(s.name for s in self.packages)
            return Change.noop(f"not installed: {listed}")
        facts_after: list[tuple[Fact[Any], Any]] = [(DebPackages(), after)]
        if stale:
            facts_after.append((AptCacheAge(), 0))
        return Change(tuple(actions), tuple(diff), facts_after=tuple(facts_after))


class _DebKey:
    """Sort adaptor: Debian version order."""

    def __init__(self, version: str) -> None:
        self.version = version

    def __lt__(self, other: _DebKey) -> bool:
        return deb_compare(self.version, other.version) < 0


def _update() -> list[Command]:
    parent = APT_STAMP.rsplit("/", 1)[0]
    return [
        Command("apt-get -q update"),
        Command(f"mkdir -p {parent} && touch {APT_STAMP}"),
    ]


def _recommends(value: bool | None) -> list[str]:
    if value is None:
        return []
    return ["-o APT::Install-Recommends=yes"] if value else ["--no-install-recommends"]


def deb_name_re() -> re.Pattern[str]:
    return _DEB_NAME
