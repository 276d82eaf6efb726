"""Service facts: is a service running, is it enabled at boot — under systemd, or under
SysV init / OpenRC on hosts without it.

One command answers for any host: it checks for systemd (``/run/systemd/system``)
itself, so the service operations need no other fact. Under systemd the answers
are ``systemctl is-active`` / ``is-enabled`` and the unit's LoadState; without it,
the init script's ``status`` exit code and the ``rc?.d`` start links (SysV), or
``rc-service``/``rc-update`` (OpenRC). Reading a state never changes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from opsforge.deploy.commands import quote
from opsforge.deploy.facts.base import Fact

__all__ = ["ServiceInfo", "ServiceStatus"]

_SCRIPT = """\
s={name}
if [ -d /run/systemd/system ]; then
  echo "manager systemd"
  echo "load $(systemctl show -p LoadState --value -- "$s" 2>/dev/null)"
  echo "active $(systemctl is-active -- "$s" 2>/dev/null)"
  echo "enabled $(systemctl is-enabled -- "$s" 2>/dev/null)"
  echo "reload $(systemctl show -p NeedDaemonReload --value -- "$s" 2>/dev/null)"
elif command -v rc-service >/dev/null 2>&1; then
  echo "manager openrc"
  if [ -x "/etc/init.d/$s" ]; then echo "load loaded"; else echo "load not-found"; fi
  r=0; rc-service -q "$s" status >/dev/null 2>&1 || r=$?
  echo "status $r"
  if rc-update show 2>/dev/null | grep -q "^ *$s |"; then echo "enabled enabled"
  else echo "enabled disabled"; fi
else
  echo "manager sysvinit"
  if [ -x "/etc/init.d/$s" ]; then echo "load loaded"; else echo "load not-found"; fi
  r=0
  if [ -x "/etc/init.d/$s" ]; then "/etc/init.d/$s" status >/dev/null 2>&1 || r=$?
  else service "$s" status >/dev/null 2>&1 || r=$?; fi
  echo "status $r"
  set -- /etc/rc[2345].d/S[0-9][0-9]"$s"
  if [ -e "$1" ]; then echo "enabled enabled"; else echo "enabled disabled"; fi
fi"""

_MANAGERS = ("systemd", "openrc", "sysvinit")


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """``manager``: systemd, openrc or sysvinit. ``active``: active, inactive, failed,
    activating, deactivating, reloading or unknown. ``enabled``: systemd's is-enabled
    word (enabled, disabled, static, masked, indirect, generated, ...), or
    enabled/disabled for the others. ``exists`` False: no such unit / init script."""

    manager: str
    exists: bool
    active: str
    enabled: str
    needs_daemon_reload: bool = False

    @property
    def running(self) -> bool:
        return self.active in ("active", "activating", "reloading")


# LSB init script status codes: 0 running, 1-3 not running (dead, pid file, stopped),
# 4 unknown
_LSB = {0: "active", 1: "failed", 2: "failed", 3: "inactive"}


@dataclass(frozen=True, slots=True)
class ServiceStatus(Fact[ServiceInfo]):
    """The state of service ``service`` (a systemd unit name, ``.service`` optional)."""

    service: str

    name: ClassVar[str] = "service"

    def command(self) -> str:
        return _SCRIPT.format(name=quote(self.service))

    @classmethod
    def command_many(cls, facts: Sequence[Fact[Any]]) -> str | None:
        return "\n".join(
            f"echo '-- {i}'\n( {f.command()}\n)"
            for i, f in enumerate(facts)
            if isinstance(f, ServiceStatus)
        )

    @classmethod
    def parse_many(cls, facts: Sequence[Fact[Any]], output: str, exit_code: int) -> list[Any]:
        chunks: dict[int, list[str]] = {}
        current = -1
        for line in output.split("\n"):
            if line.startswith("-- ") and line[3:].isdigit():
                current = int(line[3:])
                chunks[current] = []
            elif current >= 0:
                chunks[current].append(line)
        values = []
        for index, fact in enumerate(facts):
            if index not in chunks:
                raise ValueError(f"no output for service {index}")
            values.append(fact.parse("\n".join(chunks[index]), 0))
        return values

    def parse(self, output: str, exit_code: int) -> ServiceInfo:
        fields: dict[str, str] = {}
        for line in output.split("\n"):
            key, _, value = line.strip().partition(" ")
            if key:
                fields.setdefault(key, value.strip())
        manager = fields.get("manager", "")
        if manager not in _MANAGERS:
            raise ValueError(f"no service manager line (got {manager!r})")
        load = fields.get("load", "")
        exists = load not in ("not-found", "")
        if manager == "systemd":
            active = fields.get("active") or "unknown"
            enabled = fields.get("enabled") or ("not-found" if not exists else "unknown")
            if load == "masked":
                exists, enabled = True, "masked"
            return ServiceInfo(manager, exists, active, enabled, fields.get("reload", "") == "yes")
        status = fields.get("status", "")
        if not status.isdigit():
            raise ValueError(f"bad status line {status!r}")
        active = _LSB.get(int(status), "unknown")
        return ServiceInfo(manager, exists, active, fields.get("enabled", "disabled"))
