"""System settings for Python deploys: cron jobs, kernel parameters, the hostname, mounts
(Ansible's cron/sysctl/hostname/mount, pyinfra's ``server.crontab``/``server.sysctl``/
``server.hostname``/``server.mount``).

::

    from opsforge.deploy.operations import system

    def deploy(host):
        system.cron(host, "backup", "/usr/local/bin/backup", minute="0", hour="2")
        system.sysctl(host, "net.ipv4.ip_forward", 1)
        system.hostname(host, "web1.example.com")
        system.mount(host, "/data", src="UUID=1234-abcd", fstype="ext4", opts="noatime")
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from opsforge.deploy.commands import Action, Command
from opsforge.deploy.context import Declared, HostContext
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.files import FileState
from opsforge.deploy.facts.system_state import Hostname, SysctlValue
from opsforge.deploy.operation import Change, DiffItem, Operation, PlanEnv
from opsforge.deploy.operations.files_attrs import check_path
from opsforge.deploy.operations.system_cron import Cron
from opsforge.deploy.operations.system_mount import Mount
from opsforge.deploy.operations.system_text import read_text, rewrite
from opsforge.errors import InputError, PlanError

__all__ = [
    "Cron",
    "Mount",
    "SetHostname",
    "Sysctl",
    "cron",
    "hostname",
    "mount",
    "sysctl",
]

SYSCTL_FILE = "/etc/sysctl.d/99-opsforge.conf"
_SYSCTL_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")


def _present(state: str | None, present: bool, what: str) -> bool:
    if state is None:
        return present
    if state not in ("present", "absent"):
        raise InputError(f"{what}: unknown state {state!r} (present or absent)")
    return state == "present"


# ---- sysctl ------------------------------------------------------------------------------


def _norm(value: str) -> str:
    return " ".join(value.split())


@dataclass(frozen=True)
class Sysctl(Operation):
    """``key=value`` in ``sysctl_file`` and (``reload``) in the running kernel."""

    key: str
    value: str | None = None
    present: bool = True
    sysctl_file: str = SYSCTL_FILE
    reload: bool = True

    kind: ClassVar[str] = "system.sysctl"

    def __post_init__(self) -> None:
        if not _SYSCTL_KEY.match(self.key):
            raise InputError(f"sysctl: {self.key!r} is not a kernel parameter name")
        object.__setattr__(self, "key", self.key.replace("/", "."))
        check_path(self.sysctl_file, "sysctl: sysctl_file")
        if self.present:
            if self.value is None or not _norm(self.value) or "\n" in self.value:
                raise InputError(f"sysctl: {self.key} needs a value (one line)")
            object.__setattr__(self, "value", _norm(self.value))

    def describe(self) -> str:
        return f"sysctl {self.key}" + (f"={self.value}" if self.present else " (absent)")

    def facts(self) -> tuple[Fact[Any], ...]:
        found: list[Fact[Any]] = [FileState(self.sysctl_file, content=True)]
        if self.present and self.reload:
            found.append(SysctlValue(self.key))
        return tuple(found)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        info, text = read_text(facts, self.sysctl_file, env, "sysctl")
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        wanted = f"{self.key}={self.value}"
        out: list[str] = []
        old: str | None = None
        for line in lines:
            key, sep, value = line.partition("=")
            name = key.strip().lstrip("-").replace("/", ".")
            if not sep or line.lstrip().startswith(("#", ";")) or name != self.key:
                out.append(line)
                continue
            if old is None and self.present:
                out.append(line if _norm(value) == self.value else wanted)
            old = _norm(value) if old is None else old
        if self.present and old is None:
            out.append(wanted)
        new = "".join(f"{line}\n" for line in out)
        actions: list[Action] = []
        diff: list[DiffItem] = []
        facts_after: list[tuple[Fact[Any], Any]] = []
        if new != text:
            write, item, predicted = rewrite(self.sysctl_file, info, text, new)
            actions.append(write)
            diff.append(item)
            facts_after += predicted
        running: str | None = None
        if self.present and self.reload:
            running = facts.get(SysctlValue(self.key))
            if running is None:
                raise PlanError(f"sysctl: the kernel has no parameter {self.key}", host=env.host)
            if running != self.value:
                assert self.value is not None
                actions.append(Command.build("sysctl", "-q", "-w", f"{self.key}={self.value}"))
                diff.append(DiffItem(self.key, running, self.value))
                facts_after.append((SysctlValue(self.key), self.value))
        if not actions:
            if not self.present:
                return Change.noop(f"{self.key} is not set in {self.sysctl_file}")
            now = f", running value {running}" if running is not None else ""
            return Change.noop(f"{self.key}={self.value} in {self.sysctl_file}{now}")
        return Change(tuple(actions), tuple(diff), facts_after=tuple(facts_after))


def sysctl(
    host: HostContext,
    name: str,
    value: str | int | None = None,
    *,
    present: bool = True,
    state: str | None = None,
    sysctl_file: str = SYSCTL_FILE,
    reload: bool = True,
    **meta: Any,
) -> Declared:
    """Kernel parameter ``name`` set to ``value`` in ``sysctl_file`` and, with ``reload``,
    in the running kernel (``sysctl -w``, only when it differs). ``present=False``
    takes it out of the file (the running value stays)."""
    text = None if value is None else str(int(value) if isinstance(value, bool) else value)
    op = Sysctl(name, text, _present(state, present, "sysctl"), sysctl_file, reload)
    return host.add(op, **meta)


# ---- hostname ----------------------------------------------------------------------------

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
HOSTNAME_FILE = "/etc/hostname"


@dataclass(frozen=True)
class SetHostname(Operation):
    """The running hostname (``hostname NAME``) and ``/etc/hostname``."""

    hostname: str

    kind: ClassVar[str] = "system.hostname"

    def __post_init__(self) -> None:
        labels = self.hostname.split(".")
        if len(self.hostname) > 253 or not all(_LABEL.match(label) for label in labels):
            raise InputError(f"hostname: {self.hostname!r} is not a valid host name")

    def describe(self) -> str:
        return f"hostname {self.hostname}"

    def facts(self) -> tuple[Fact[Any], ...]:
        return (Hostname(), FileState(HOSTNAME_FILE, content=True))

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        running = facts.get(Hostname())
        info, text = read_text(facts, HOSTNAME_FILE, env, "hostname")
        actions: list[Action] = []
        diff: list[DiffItem] = []
        facts_after: list[tuple[Fact[Any], Any]] = []
        if running != self.hostname:
            actions.append(Command.build("hostname", self.hostname))
            diff.append(DiffItem("hostname", running, self.hostname))
            facts_after.append((Hostname(), self.hostname))
        if text.strip() != self.hostname:
            write, item, predicted = rewrite(HOSTNAME_FILE, info, text, self.hostname + "\n")
            actions.append(write)
            diff.append(item)
            facts_after += predicted
        if not actions:
            return Change.noop(f"hostname is {self.hostname} (running and {HOSTNAME_FILE})")
        return Change(tuple(actions), tuple(diff), facts_after=tuple(facts_after))


def hostname(host: HostContext, name: str, **meta: Any) -> Declared:
    """The host's name, now (``hostname``) and at boot (``/etc/hostname``)."""
    return host.add(SetHostname(name), **meta)


# ---- cron, mount -------------------------------------------------------------------------


def cron(
    host: HostContext,
    name: str,
    job: str | None = None,
    *,
    minute: str | int = "*",
    hour: str | int = "*",
    day: str | int = "*",
    month: str | int = "*",
    weekday: str | int = "*",
    special_time: str | None = None,
    user: str | None = None,
    present: bool = True,
    state: str | None = None,
    disabled: bool = False,
    **meta: Any,
) -> Declared:
    """A cron job marked ``#Ansible: NAME`` in ``user``'s crontab (default: the
    connecting user's): created, updated in place, or (``present=False``) removed.
    ``special_time``: reboot, hourly, daily, weekly, monthly, yearly, annually.
    ``disabled``: kept but commented out."""
    op = Cron(
        name,
        job,
        str(minute),
        str(hour),
        str(day),
        str(month),
        str(weekday),
        special_time,
        user,
        _present(state, present, "cron"),
        disabled,
    )
    return host.add(op, **meta)


def mount(
    host: HostContext,
    path: str,
    src: str | None = None,
    fstype: str | None = None,
    *,
    opts: str = "defaults",
    dump: str | int = 0,
    passno: str | int = 0,
    state: str = "mounted",
    fstab: str = "/etc/fstab",
    **meta: Any,
) -> Declared:
    """A filesystem at ``path``: ``mounted`` (fstab + mounted), ``present`` (fstab only),
    ``unmounted``, ``absent`` (out of fstab, unmounted) or ``remounted``."""
    op = Mount(path, src, fstype, opts, str(dump), str(passno), state, fstab)
    return host.add(op, **meta)
