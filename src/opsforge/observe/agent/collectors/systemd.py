"""systemd unit states, where systemd runs (node_exporter's systemd collector names).

Read through ``systemctl`` (two processes per scrape) rather than D-Bus:
``list-units --all`` gives every loaded unit's active state, ``show`` gives the
services' ``Type`` and ``NRestarts``. Units excluded by default as node_exporter does
(automount, device, mount, scope, slice, target).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from opsforge.observe.agent.collectors.base import ScrapeContext
from opsforge.observe.agent.exposition import Family

__all__ = [
    "DEFAULT_UNIT_EXCLUDE",
    "SystemdCollector",
    "parse_list_units",
    "parse_show",
    "systemd_running",
]

DEFAULT_UNIT_EXCLUDE = r".+\.(automount|device|mount|scope|slice|target)"
_STATES = ("activating", "active", "deactivating", "failed", "inactive")
_TIMEOUT = 10.0


def systemd_running(root: Path = Path("/")) -> bool:
    """systemd's own test (sd_booted): ``/run/systemd/system`` exists."""
    return (root / "run/systemd/system").is_dir()


def parse_list_units(text: str) -> dict[str, str]:
    """``systemctl list-units --all --plain --no-legend --full`` → unit → active state."""
    units: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.lstrip(" ●*").split(None, 4)  # "●" marks failed units (not with --plain)
        if len(parts) >= 3:
            units[parts[0]] = parts[2]
    return units


def parse_show(text: str) -> dict[str, dict[str, str]]:
    """``systemctl show -p Id,Type,NRestarts UNIT...`` (blank-line separated) → by Id."""
    units: dict[str, dict[str, str]] = {}
    for block in text.split("\n\n"):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if "Id" in props:
            units[props["Id"]] = props
    return units


def _systemctl(*args: str) -> str:
    return subprocess.run(
        ["systemctl", *args], capture_output=True, text=True, check=True, timeout=_TIMEOUT
    ).stdout


@dataclass(frozen=True, slots=True)
class SystemdCollector:
    unit_include: re.Pattern[str] = re.compile(r".+")
    unit_exclude: re.Pattern[str] = re.compile(DEFAULT_UNIT_EXCLUDE)

    def __call__(self, ctx: ScrapeContext) -> list[Family]:
        if shutil.which("systemctl") is None:
            raise FileNotFoundError("systemctl not found")
        states = parse_list_units(
            _systemctl("list-units", "--all", "--plain", "--no-legend", "--full", "--no-pager")
        )
        units = {
            unit: state
            for unit, state in sorted(states.items())
            if self.unit_include.fullmatch(unit) and not self.unit_exclude.fullmatch(unit)
        }
        services = [u for u in units if u.endswith(".service")]
        shown = (
            parse_show(_systemctl("show", "-p", "Id,Type,NRestarts", "--", *services))
            if services
            else {}
        )
        unit_state = Family("node_systemd_unit_state", "gauge", "Systemd unit")
        restarts = Family(
            "node_systemd_service_restart_total",
            "counter",
            "Service unit count of Restart triggers",
        )
        for unit, active in units.items():
            props = shown.get(unit, {})
            kind = props.get("Type", "")
            for state in _STATES:
                unit_state.add(
                    1 if state == active else 0,
                    (("name", unit), ("state", state), ("type", kind)),
                )
            if props.get("NRestarts", "").isdigit():
                restarts.add(int(props["NRestarts"]), (("name", unit),))
        running = Family(
            "node_systemd_system_running",
            "gauge",
            "Whether the system is operational (see 'systemctl is-system-running')",
        )
        status = subprocess.run(
            ["systemctl", "is-system-running"], capture_output=True, text=True, timeout=_TIMEOUT
        ).stdout.strip()
        running.add(1 if status == "running" else 0)
        return [unit_state, restarts, running]
