"""What a playbook run keeps: per host across plays (:class:`HostState`), per play
across hosts (:class:`PlayRun`), and the run's options."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opsforge.connectors.base import Connector
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.system import OsInfo, System, SystemInfo
from opsforge.deploy.playbook.model import Play, Role
from opsforge.deploy.playbook.variables import GATHER, HostVars, Pending, TemplatedVars, VarSpace
from opsforge.templating import TemplateEngine
from opsforge.types import Become, HostSpec
from opsforge.vault import VaultSecrets

__all__ = ["FACT_NAMES", "HostState", "PlayFacts", "PlayRun", "RunOptions", "facts_layer"]


class PlayFacts(FactCache):
    """The fact cache of a host for a playbook run; can forget what may be stale."""

    def forget(self, *, keep_system: bool = True) -> None:
        system = System()
        kept: dict[Fact[Any], Any] = {}
        if keep_system and system in self._values:
            kept[system] = self._values[system]
        self._values = kept

    def drop(self, facts: Any) -> None:
        for fact in facts:
            self._values.pop(fact, None)


_BLANK = SystemInfo(OsInfo("", "", "", "", ""), "", "", "", "", "", "", "", 0, 0, "", "", "")
#: the names under which gathered facts appear (``ansible_os_family`` ...)
FACT_NAMES = tuple(_BLANK.ansible_facts())

_PKG_MGR = {"Debian": "apt", "RedHat": "dnf", "Alpine": "apk", "Archlinux": "pacman",
            "Suse": "zypper", "Gentoo": "portage", "FreeBSD": "pkgng"}  # fmt: skip


def facts_layer(cache: FactCache, wanted: bool) -> dict[str, Any]:
    """``ansible_facts`` and the ``ansible_*`` names: the gathered values, placeholders
    that ask for a gather when facts are wanted but not read yet, else nothing."""
    system = System()
    if cache.has(system):
        facts = cache.get(system).ansible_facts()
        facts.setdefault("pkg_mgr", _PKG_MGR.get(facts["os_family"], "unknown"))
        layer: dict[str, Any] = {f"ansible_{k}": v for k, v in facts.items()}
        layer["ansible_facts"] = facts
        return layer
    if not wanted:
        return {}
    pending = Pending(GATHER, "ansible_facts")
    layer = {f"ansible_{k}": pending for k in FACT_NAMES}
    layer["ansible_pkg_mgr"] = pending
    layer["ansible_facts"] = pending
    return layer


@dataclass(frozen=True)
class RunOptions:
    """Settings of the whole run (from the command line)."""

    check: bool = False
    diff: bool = False
    tags: frozenset[str] = frozenset()
    skip_tags: frozenset[str] = frozenset()
    extra_vars: Mapping[str, Any] = field(default_factory=dict)
    secrets: VaultSecrets = field(default_factory=VaultSecrets)
    become: Become | None = None  # -b on the command line
    forks: int = 50
    interactive: bool = False
    #: asks a ``vars_prompt`` question on the terminal: (prompt, private) -> answer; None
    #: when there is no terminal (then a default or ``-e`` must give the value)
    prompt: Callable[[str, bool], str] | None = None


@dataclass
class HostState:
    """One host across the plays of a run."""

    name: str
    spec: HostSpec
    groups: tuple[str, ...]
    inventory_vars: Mapping[str, Any]
    cache: PlayFacts
    facts: dict[str, Any] = field(default_factory=dict)  # set_fact and register
    include_vars: dict[str, Any] = field(default_factory=dict)
    applies: int = 0  # apply round trips (gathers are counted by the cache)
    failed: bool = False
    next_index: int = 0

    @property
    def round_trips(self) -> int:
        return self.cache.round_trips + self.applies

    def host_vars(self) -> dict[str, Any]:
        """What ``hostvars[this host]`` shows."""
        out = dict(self.inventory_vars)
        out.update(facts_layer(self.cache, wanted=False))
        out.update(self.facts)
        out.setdefault("inventory_hostname", self.name)
        out.setdefault("group_names", [g for g in self.groups if g != "all"])
        return out


@dataclass
class PlayRun:
    """One play across its hosts."""

    play: Play
    engine: TemplateEngine
    options: RunOptions
    hosts: list[str]
    states: Mapping[str, HostState]
    groups: Mapping[str, list[str]]
    playbook_dir: str
    batch: list[str] = field(default_factory=list)
    ended: bool = False
    run_once: dict[Any, asyncio.Future[Any]] = field(default_factory=dict)
    hostvars_of: Callable[[str], Mapping[str, Any]] | None = None
    #: the (pooled) connection to another inventory host, for ``delegate_to``
    connect: Callable[[str], Awaitable[Connector]] | None = None

    def hostvars(self) -> HostVars:
        def build(name: str) -> Mapping[str, Any]:
            state = self.states.get(name)
            if state is None:
                return {}
            magic = {"hostvars": hostvars, "groups": self.groups, "inventory_hostname": name}
            space = VarSpace(self.engine, [magic, state.host_vars()], self.play.origin)
            return TemplatedVars(space)

        hostvars = HostVars(list(self.states), build)
        return hostvars

    def role_layers(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(every role's vars, every role's defaults) of the play, merged in role order."""
        role_vars: dict[str, Any] = {}
        defaults: dict[str, Any] = {}
        roles: tuple[Role, ...] = self.play.roles
        for role in roles:
            role_vars.update(role.vars)
            defaults.update(role.defaults)
        return role_vars, defaults
