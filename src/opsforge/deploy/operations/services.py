"""Service operations (Ansible's service/systemd/systemd_service, pyinfra's
``systemd.service``/``server.service``).

::

    from opsforge.deploy.operations import services

    def deploy(host):
        services.service(host, "nginx", state="started", enabled=True)
        services.systemd(host, "app", state="restarted", daemon_reload=True)

``started``/``stopped`` act only when the service is not already so; ``restarted`` and
``reloaded`` always act (a reload of a stopped service starts it). ``enabled``
changes the boot-time setting only when it differs. Under systemd the commands are
``systemctl``; hosts without systemd get ``/etc/init.d/NAME`` (or ``service NAME``)
and ``update-rc.d`` (OpenRC: ``rc-service`` and ``rc-update``). A service that does
not exist yet is planned as stopped and disabled: an earlier operation of the same
run (a package install, a unit file) may bring it. ``daemon_reload`` runs
``systemctl daemon-reload`` first, every time (alone it reports *ok*, as Ansible).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from opsforge.deploy.commands import Command, quote
from opsforge.deploy.context import Declared, HostContext
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.services import ServiceInfo, ServiceStatus
from opsforge.deploy.operation import Change, DiffItem, Operation, PlanEnv
from opsforge.errors import InputError, PlanError

__all__ = ["Service", "service", "systemd"]

STATES = ("started", "stopped", "restarted", "reloaded")
_ALIASES = {"running": "started", "restart": "restarted", "reload": "reloaded"}
_UNIT = re.compile(r"^[A-Za-z0-9:_.@\\-]+$")
# is-enabled words that mean "starts at boot or with something else" (nothing to enable)
_ENABLED_LIKE = ("enabled", "enabled-runtime", "static", "indirect", "generated", "alias")


@dataclass(frozen=True)
class Service(Operation):
    service: str
    state: str | None = None
    enabled: bool | None = None
    daemon_reload: bool = False
    masked: bool | None = None

    kind: ClassVar[str] = "services.service"

    def __post_init__(self) -> None:
        if not isinstance(self.service, str) or not _UNIT.match(self.service):
            raise InputError(f"service: {self.service!r} is not a valid service name")
        if self.state is not None and self.state not in STATES:
            raise InputError(f"service: unknown state {self.state!r} (one of {', '.join(STATES)})")
        nothing = self.state is None and self.enabled is None and self.masked is None
        if nothing and not self.daemon_reload:
            raise InputError("service: give state, enabled, masked or daemon_reload")

    def describe(self) -> str:
        parts = [self.state or ""]
        if self.enabled is not None:
            parts.append("enabled" if self.enabled else "disabled")
        if self.masked is not None:
            parts.append("masked" if self.masked else "unmasked")
        words = ", ".join(p for p in parts if p)
        return f"service {self.service}" + (f" {words}" if words else " daemon-reload")

    def facts(self) -> tuple[Fact[Any], ...]:
        return (ServiceStatus(self.service),)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        info = facts.get(ServiceStatus(self.service))
        if info.manager != "systemd" and (self.daemon_reload or self.masked is not None):
            what = "daemon_reload" if self.daemon_reload else "masked"
            raise PlanError(f"service {self.service}: {what} needs systemd", host=env.host)
        ctl = _Systemd(self.service) if info.manager == "systemd" else _Init(info, self.service)
        actions: list[Command] = []
        diff: list[DiffItem] = []
        after = info
        if self.masked is not None and (info.enabled == "masked") != self.masked:
            actions.append(ctl.systemctl("mask" if self.masked else "unmask"))
            new = "masked" if self.masked else "disabled"
            diff.append(DiffItem("enabled", info.enabled, new))
            after = replace(after, enabled=new)
        masked = after.enabled == "masked"
        if masked and (self.state in ("started", "restarted", "reloaded") or self.enabled):
            raise PlanError(
                f"service {self.service} is masked: it cannot be started or enabled "
                "(masked=False unmasks it)",
                host=env.host,
            )
        if self.enabled is not None:
            now = after.enabled in _ENABLED_LIKE
            if now != self.enabled and not (after.enabled == "static" and not self.enabled):
                actions += ctl.enable(self.enabled)
                new = "enabled" if self.enabled else "disabled"
                diff.append(DiffItem("enabled", after.enabled, new))
                after = replace(after, enabled=new)
        state_action = self._state_action(after, ctl)
        if state_action is not None:
            command, new = state_action
            actions.append(command)
            if new != after.active or self.state in ("restarted", "reloaded"):
                shown = self.state if new == after.active else new
                diff.append(DiffItem("state", after.active, shown))
            after = replace(after, active=new)
        if self.daemon_reload:
            actions.insert(0, Command("systemctl daemon-reload"))
            after = replace(after, needs_daemon_reload=False)
        if not actions:
            return Change.noop(self._noop_reason(info))
        changed = len(actions) > 1 or not self.daemon_reload
        after = replace(after, exists=after.exists or changed)
        return Change(
            tuple(actions),
            tuple(diff),
            changed=changed,
            facts_after=((ServiceStatus(self.service), after),),
        )

    def _state_action(self, info: ServiceInfo, ctl: _Control) -> tuple[Command, str] | None:
        if self.state == "started" and not info.running:
            return ctl.run("start"), "active"
        if self.state == "stopped" and info.running:
            return ctl.run("stop"), "inactive"
        if self.state == "restarted":
            return ctl.run("restart"), "active"
        if self.state == "reloaded":
            return ctl.run("reload" if info.running else "start"), "active"
        return None

    def _noop_reason(self, info: ServiceInfo) -> str:
        words = []
        if self.state is not None:
            words.append("running" if info.running else info.active)
        if self.enabled is not None or self.masked is not None:
            words.append(info.enabled)
        missing = "" if info.exists else " (not installed)"
        return f"service {self.service} is {', '.join(words)}{missing}"


class _Control:
    def run(self, verb: str) -> Command:
        raise NotImplementedError

    def enable(self, on: bool) -> list[Command]:
        raise NotImplementedError

    def systemctl(self, verb: str) -> Command:
        raise NotImplementedError


class _Systemd(_Control):
    def __init__(self, name: str) -> None:
        self.name = name

    def systemctl(self, verb: str) -> Command:
        return Command.build("systemctl", verb, self.name)

    def run(self, verb: str) -> Command:
        return self.systemctl(verb)

    def enable(self, on: bool) -> list[Command]:
        return [self.systemctl("enable" if on else "disable")]


class _Init(_Control):
    """SysV init scripts (Debian's update-rc.d) or OpenRC."""

    def __init__(self, info: ServiceInfo, name: str) -> None:
        self.info, self.name = info, name

    def systemctl(self, verb: str) -> Command:
        raise AssertionError("systemd only")

    def run(self, verb: str) -> Command:
        if self.info.manager == "openrc":
            return Command.build("rc-service", self.name, verb)
        script = f"/etc/init.d/{self.name}"
        if self.info.exists:
            return Command.build(script, verb)
        # not there when facts were read: whichever exists when it runs
        q = quote(script)
        return Command(
            f"if [ -x {q} ]; then {q} {verb}; else service {quote(self.name)} {verb}; fi"
        )

    def enable(self, on: bool) -> list[Command]:
        if self.info.manager == "openrc":
            return [Command.build("rc-update", "add" if on else "del", self.name, "default")]
        # enable/disable only edit existing rc links: a script never installed with
        # "defaults" has none (update-rc.d aborts), so make them first (as Ansible does)
        return [
            Command.build("update-rc.d", self.name, "defaults"),
            Command.build("update-rc.d", self.name, "enable" if on else "disable"),
        ]


def _state(state: str | None, running: bool | None) -> str | None:
    if state is not None and running is not None:
        raise InputError("service: give state or running, not both")
    if running is not None:
        return "started" if running else "stopped"
    return _ALIASES.get(state, state) if state is not None else None


def service(
    host: HostContext,
    name: str,
    state: str | None = None,
    *,
    enabled: bool | None = None,
    daemon_reload: bool = False,
    masked: bool | None = None,
    running: bool | None = None,
    **meta: Any,
) -> Declared:
    """A service ``started``, ``stopped``, ``restarted`` or ``reloaded``, ``enabled`` at
    boot or not (``running=True/False`` is pyinfra's spelling of started/stopped).
    ``masked`` (systemd): mask or unmask the unit."""
    op = Service(name, _state(state, running), enabled, daemon_reload, masked)
    return host.add(op, **meta)


def systemd(
    host: HostContext,
    name: str | None = None,
    state: str | None = None,
    *,
    enabled: bool | None = None,
    daemon_reload: bool = False,
    masked: bool | None = None,
    running: bool | None = None,
    **meta: Any,
) -> Declared:
    """:func:`service` for systemd units (``name`` may be left out with only
    ``daemon_reload=True``)."""
    if name is None:
        if not daemon_reload or state or enabled is not None or masked is not None:
            raise InputError("systemd: name is required (except for daemon_reload alone)")
        return host.add(_DaemonReload(), **meta)
    op = Service(name, _state(state, running), enabled, daemon_reload, masked)
    return host.add(op, **meta)


@dataclass(frozen=True)
class _DaemonReload(Operation):
    """``systemctl daemon-reload`` on its own: every run, reported ok."""

    kind: ClassVar[str] = "services.daemon_reload"

    def describe(self) -> str:
        return "systemd daemon-reload"

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        return Change((Command("systemctl daemon-reload"),), changed=False)
