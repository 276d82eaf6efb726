"""Package operations for Python deploys (Ansible's apt/pip/dnf/yum/apk/package, pyinfra's
``apt.packages``/``pip.packages``).

::

    from opsforge.deploy.operations import packages

    def deploy(host):
        packages.apt(host, ["nginx", "curl"], update_cache=True, cache_valid_time=3600)
        packages.apt(host, "postgresql-15=15.5*")            # pinned (a glob)
        packages.apt(host, "telnet", state="absent", purge=True)
        packages.pip(host, ["flask>=3", "gunicorn"], virtualenv="/srv/app/venv")
        packages.package(host, "git")                          # apt, dnf, yum or apk

``packages`` is a list, or one string of comma- or space-separated names;
``present=False`` is ``state="absent"``. Every function also takes the per-use
settings ``name``, ``tags``, ``notify``, ``become`` and ``ignore_errors``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from opsforge.deploy.context import Declared, HostContext
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.packages import PackageManager
from opsforge.deploy.operation import Change, Operation, PlanEnv
from opsforge.deploy.operations.packages_apt import STATES, Apt, deb_name_re, split_specs
from opsforge.deploy.operations.packages_dnf_apk import Apk, Dnf
from opsforge.deploy.operations.packages_pip import Pip
from opsforge.errors import InputError, PlanError

__all__ = [
    "Apk",
    "Apt",
    "Dnf",
    "Package",
    "Pip",
    "apk",
    "apt",
    "dnf",
    "package",
    "pip",
    "yum",
]

Packages = str | list[str] | tuple[str, ...]


def resolve_state(
    state: str | None, present: bool | None, allowed: tuple[str, ...], what: str
) -> str:
    """``state`` (Ansible) or ``present`` (pyinfra), not both; ``installed``/``removed``
    are Ansible's older spellings."""
    if state is not None and present is not None:
        raise InputError(f"{what}: give state or present, not both")
    if state is None:
        return "absent" if present is False else "present"
    state = {"installed": "present", "removed": "absent"}.get(state, state)
    if state not in allowed:
        raise InputError(f"{what}: unknown state {state!r} (one of {', '.join(allowed)})")
    return state


def _seconds(value: int | str | None, what: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InputError(f"{what}: cache_valid_time must be seconds, got {value!r}") from None


def apt(
    host: HostContext,
    packages: Packages = (),
    *,
    present: bool | None = None,
    state: str | None = None,
    update_cache: bool = False,
    cache_valid_time: int | str | None = None,
    install_recommends: bool | None = None,
    purge: bool = False,
    allow_downgrade: bool = False,
    **meta: Any,
) -> Declared:
    """Debian packages ``present``, ``absent`` or ``latest``; ``name=1.2*`` pins a version
    (a glob resolves to the newest matching version apt knows). One ``apt-get`` call
    installs everything missing. ``update_cache``: ``apt-get update`` before an install
    (alone: every run, reported ok); ``cache_valid_time=N``: only when the lists are
    older than N seconds. ``purge``: remove configuration too (also of packages
    already removed)."""
    op = Apt(
        split_specs(packages, "apt", deb_name_re()),
        resolve_state(state, present, STATES, "apt"),
        update_cache,
        _seconds(cache_valid_time, "apt"),
        install_recommends,
        purge,
        allow_downgrade,
    )
    return host.add(op, **meta)


def pip(
    host: HostContext,
    packages: Packages = (),
    *,
    present: bool | None = None,
    state: str | None = None,
    version: str | None = None,
    virtualenv: str | None = None,
    virtualenv_command: str = "python3 -m venv",
    virtualenv_site_packages: bool = False,
    requirements: str | None = None,
    executable: str | None = None,
    extra_args: str = "",
    chdir: str | None = None,
    **meta: Any,
) -> Declared:
    """Python packages (``flask>=3``, a path, a URL) or a ``requirements`` file (a path on
    the host) in ``virtualenv`` (made with ``virtualenv_command`` when missing), or with
    the pip ``executable`` (default ``python3 -m pip``). ``version`` pins the one
    package given. ``state``: present, absent, latest, forcereinstall."""
    allowed = ("present", "absent", "latest", "forcereinstall")
    if isinstance(packages, str):  # one string: comma-separated (Ansible's list conversion)
        specs = [w.strip() for w in packages.split(",") if w.strip()]
    else:  # a list: each item whole ("requests>=2,<3")
        specs = [str(p).strip() for p in packages if str(p).strip()]
    if version is not None:
        if len(specs) != 1:
            raise InputError("pip: version goes with exactly one package")
        specs = [f"{specs[0]}=={version}"]
    op = Pip(
        tuple(specs),
        resolve_state(state, present, allowed, "pip"),
        virtualenv,
        virtualenv_command,
        virtualenv_site_packages,
        requirements,
        executable,
        extra_args,
        chdir,
    )
    return host.add(op, **meta)


def dnf(
    host: HostContext,
    packages: Packages = (),
    *,
    present: bool | None = None,
    state: str | None = None,
    update_cache: bool = False,
    **meta: Any,
) -> Declared:
    """rpm packages with dnf (``name=1.2*`` pins a version)."""
    specs = split_specs(packages, "dnf", None)
    op = Dnf(specs, resolve_state(state, present, STATES, "dnf"), update_cache)
    return host.add(op, **meta)


def yum(
    host: HostContext,
    packages: Packages = (),
    *,
    present: bool | None = None,
    state: str | None = None,
    update_cache: bool = False,
    **meta: Any,
) -> Declared:
    """rpm packages with yum (older hosts)."""
    specs = split_specs(packages, "yum", None)
    op = Dnf(specs, resolve_state(state, present, STATES, "yum"), update_cache, manager="yum")
    return host.add(op, **meta)


def apk(
    host: HostContext,
    packages: Packages = (),
    *,
    present: bool | None = None,
    state: str | None = None,
    update_cache: bool = False,
    **meta: Any,
) -> Declared:
    """Alpine packages with apk."""
    specs = split_specs(packages, "apk", None)
    op = Apk(specs, resolve_state(state, present, STATES, "apk"), update_cache)
    return host.add(op, **meta)


@dataclass(frozen=True)
class Package(Operation):
    """The same packages with whichever manager the host has (apt-get, dnf, yum, apk —
    in that order): every candidate's facts are read in the same round trip (each
    command first checks its binary), the plan is the chosen manager's."""

    choices: tuple[Operation, ...]  # Apt, Dnf(dnf), Dnf(yum), Apk

    kind: ClassVar[str] = "packages.package"

    def describe(self) -> str:
        return "package " + self.choices[0].describe().split(" ", 1)[1]

    def facts(self) -> tuple[Fact[Any], ...]:
        found: list[Fact[Any]] = [PackageManager()]
        for op in self.choices:
            found.extend(f for f in op.facts() if f not in found)
        return tuple(found)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        have = facts.get(PackageManager())
        if not have:
            raise PlanError("package: no apt-get, dnf, yum or apk on the host", host=env.host)
        return self.choices[("apt-get", "dnf", "yum", "apk").index(have[0])].plan(facts, env)


def package(
    host: HostContext,
    packages: Packages = (),
    *,
    present: bool | None = None,
    state: str | None = None,
    update_cache: bool = False,
    **meta: Any,
) -> Declared:
    """Packages with the host's own manager (Ansible's ``package``): apt, dnf, yum or apk."""
    resolved = resolve_state(state, present, STATES, "package")
    specs = split_specs(packages, "package", None)
    choices: tuple[Operation, ...] = (
        Apt(specs, resolved, update_cache),
        Dnf(specs, resolved, update_cache),
        Dnf(specs, resolved, update_cache, manager="yum"),
        Apk(specs, resolved, update_cache),
    )
    return host.add(Package(choices), **meta)
