"""Spec-case facts for the system operations (packages, services, users, system, git): what a
case's ``facts:`` says, as the values the fact classes parse to.

``facts`` keys: ``deb``/``rpm``/``apk`` (name -> version, or {version, state}; null: no
such manager), ``apt_policy`` (name -> {candidate, installed, versions}), ``apt_cache_age``,
``dnf_updates``/``apk_upgrades`` (name -> version), ``managers``, ``pip`` (name -> version,
or ``missing``, or {packages, pip_error}), ``pip_dry_run`` ({install: {name: version}} or
{error}), ``service`` ({manager, exists, active, enabled, needs_daemon_reload}), ``users``/
``groups`` (added to root's), ``shadow`` (a hash; "" unreadable; null no user),
``authorized_keys`` ({user_exists, path, content, dir_exists}), ``crontab``, ``sysctl``
(key -> value), ``hostname``, ``mounts`` ([src, path, type, opts] rows), ``git``
({state, head, branch, url, dirty, remote: {kind, name, commit}, remote_error}); and
``files`` (path -> attributes, as the file operation specs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, is_dataclass
from typing import Any

from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.files import FileState
from opsforge.deploy.facts.git import GitCheckout, GitInfo, RemoteRef
from opsforge.deploy.facts.packages import (
    ApkPackages,
    ApkUpgrades,
    AptCacheAge,
    AptCandidate,
    AptPolicy,
    DebPackages,
    DnfUpdates,
    PackageInfo,
    PackageManager,
    RpmPackages,
)
from opsforge.deploy.facts.packages_pip import PipDryRun, PipEnv, PipPackages, PipPlan
from opsforge.deploy.facts.services import ServiceInfo, ServiceStatus
from opsforge.deploy.facts.system_state import Crontab, Hostname, MountInfo, Mounts, SysctlValue
from opsforge.deploy.facts.users import (
    AuthorizedKeys,
    AuthorizedKeysInfo,
    GroupInfo,
    Groups,
    PasswordHash,
    UserInfo,
    Users,
)
from opsforge.types import Secret

from .conftest import file_info

ROOT_USER = {"root": {"uid": 0, "gid": 0, "home": "/root", "shell": "/bin/bash", "comment": "root"}}
ROOT_GROUP = {"root": {"gid": 0}}

Spec = Mapping[str, Any]


def _installed(spec: Any) -> Any:
    if spec is None:
        return None
    out = {}
    for name, value in spec.items():
        if isinstance(value, Mapping):
            out[name] = PackageInfo(str(value["version"]), value.get("state", "installed"))
        else:
            out[name] = PackageInfo(str(value))
    return out


def _policy(fact: AptPolicy, spec: Any) -> Any:
    if spec is None:
        return None
    out = {}
    for name in fact.packages:
        if name in spec:
            entry = spec[name] or {}
            candidate = entry.get("candidate")
            versions = tuple(
                str(v) for v in entry.get("versions", [candidate] if candidate else [])
            )
            out[name] = AptCandidate(
                entry.get("installed"), str(candidate) if candidate else None, versions
            )
    return out


def _pip(spec: Any) -> PipEnv:
    if spec == "missing":
        return PipEnv(False, {})
    if isinstance(spec, Mapping) and "packages" in spec:
        packages = {k: str(v) for k, v in (spec["packages"] or {}).items()}
        return PipEnv(True, packages, spec.get("pip_error", ""))
    return PipEnv(True, {k: str(v) for k, v in (spec or {}).items()})


def _dry_run(spec: Any) -> PipPlan:
    if spec == "missing":
        return PipPlan(False)
    if spec.get("error"):
        return PipPlan(True, error=spec["error"])
    install = tuple(sorted((k, str(v)) for k, v in (spec.get("install") or {}).items()))
    return PipPlan(True, install)


def _users(spec: Any) -> dict[str, UserInfo]:
    merged = {**ROOT_USER, **(spec or {})}
    out = {}
    for name, entry in merged.items():
        out[name] = UserInfo(
            name,
            int(entry.get("uid", 1000)),
            int(entry.get("gid", entry.get("uid", 1000))),
            str(entry.get("comment", "")),
            str(entry.get("home", f"/home/{name}")),
            str(entry.get("shell", "/bin/sh")),
        )
    return out


def _groups(spec: Any) -> dict[str, GroupInfo]:
    merged = {**ROOT_GROUP, **(spec or {})}
    return {
        name: GroupInfo(name, int(entry.get("gid", 1000)), tuple(entry.get("members", ())))
        for name, entry in merged.items()
    }


def _git(spec: Any) -> GitInfo:
    remote = spec.get("remote")
    return GitInfo(
        spec.get("state", "repo"),
        head=spec.get("head", ""),
        branch=spec.get("branch", ""),
        remote_url=spec.get("url", ""),
        dirty=bool(spec.get("dirty", False)),
        remote=RemoteRef(**remote) if remote else None,
        remote_error=spec.get("remote_error", ""),
    )


def _keys(spec: Any) -> AuthorizedKeysInfo:
    return AuthorizedKeysInfo(
        bool(spec.get("user_exists", True)),
        spec.get("path", ""),
        spec.get("content"),
        int(str(spec["mode"]), 8) if "mode" in spec else None,
        spec.get("owner", ""),
        bool(spec.get("dir_exists", spec.get("content") is not None)),
    )


def _service(spec: Any) -> ServiceInfo:
    return ServiceInfo(
        spec.get("manager", "systemd"),
        bool(spec.get("exists", True)),
        spec.get("active", "inactive"),
        spec.get("enabled", "disabled"),
        bool(spec.get("needs_daemon_reload", False)),
    )


Builder = Callable[[Fact[Any], Spec], Any]

#: fact class -> (the case's key, how to build the value; None: the key is required)
BUILDERS: dict[type[Fact[Any]], tuple[str, Builder, Any]] = {
    DebPackages: ("deb", lambda f, s: _installed(s), ...),
    RpmPackages: ("rpm", lambda f, s: _installed(s), ...),
    ApkPackages: ("apk", lambda f, s: _installed(s), ...),
    AptPolicy: ("apt_policy", lambda f, s: _policy(f, s), ...),  # type: ignore[arg-type]
    AptCacheAge: ("apt_cache_age", lambda f, s: s, ...),
    DnfUpdates: ("dnf_updates", lambda f, s: s, {}),
    ApkUpgrades: ("apk_upgrades", lambda f, s: s, {}),
    PackageManager: ("managers", lambda f, s: tuple(s), ["apt-get"]),
    PipPackages: ("pip", lambda f, s: _pip(s), ...),
    PipDryRun: ("pip_dry_run", lambda f, s: _dry_run(s), ...),
    ServiceStatus: ("service", lambda f, s: _service(s), ...),
    Users: ("users", lambda f, s: _users(s), {}),
    Groups: ("groups", lambda f, s: _groups(s), {}),
    PasswordHash: ("shadow", lambda f, s: None if s is None else Secret(str(s)), ...),
    AuthorizedKeys: ("authorized_keys", lambda f, s: _keys(s), ...),
    Crontab: ("crontab", lambda f, s: s, ...),
    SysctlValue: ("sysctl", lambda f, s: (s or {}).get(f.key), ...),  # type: ignore[attr-defined]
    Hostname: ("hostname", lambda f, s: s, ...),
    Mounts: ("mounts", lambda f, s: tuple(MountInfo(*map(str, row)) for row in s), ...),
    GitCheckout: ("git", lambda f, s: _git(s), ...),
}


def system_case_facts(case: Spec, facts: tuple[Fact[Any], ...]) -> FactCache:
    """A FactCache with what the case says for every fact the operation reads."""
    given = case.get("facts") or {}
    cache = FactCache("web1")
    for fact in facts:
        if isinstance(fact, FileState):
            files = given.get("files") or {}
            if fact.path not in files:
                raise AssertionError(f"the case does not say what is at {fact.path} (files:)")
            cache.put(fact, file_info(fact.path, files[fact.path], with_content=fact.content))
            continue
        key, build, default = BUILDERS[type(fact)]
        if key not in given and default is ...:
            raise AssertionError(f"the case does not give facts.{key} (for {fact!r})")
        cache.put(fact, build(fact, given.get(key, default)))
    return cache


def fact_key(fact: Fact[Any]) -> str:
    if isinstance(fact, FileState):
        return f"files:{fact.path}" + (":content" if fact.content else "")
    return BUILDERS[type(fact)][0]


def plain(value: Any) -> Any:
    """A fact value in the spec's terms: dataclasses as dicts, tuples as lists, Secrets as
    their text (spec cases only), PackageInfo as its version."""
    if isinstance(value, PackageInfo):
        return value.version if value.state == "installed" else asdict(value)
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, bytes):
        return value.decode()
    if is_dataclass(value) and not isinstance(value, type):
        return {k: plain(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


def subset(expected: Any, actual: Any, where: str = "") -> None:
    """Every key the case names has the expected value (recursively; lists compared whole;
    a null under a mapping key: the key must be missing or null)."""
    if isinstance(expected, Mapping):
        assert isinstance(actual, Mapping), f"{where}: expected a mapping, got {actual!r}"
        for key, value in expected.items():
            if value is None and key not in actual:
                continue
            assert key in actual, f"{where}.{key} missing in {sorted(actual)}"
            subset(value, actual[key], f"{where}.{key}")
        return
    assert expected == actual, f"{where}: expected {expected!r}, got {actual!r}"
