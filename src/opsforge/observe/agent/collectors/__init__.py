"""The agent's collectors, named as node_exporter names its own.

Core (node_exporter drop-in): cpu, stat, loadavg, meminfo, filesystem, diskstats,
netdev, uname, time, pressure, tcpstat, systemd (where systemd runs), textfile.
opsforge's own: processes (configured groups) and checks (configured probes).
"""

from __future__ import annotations

__all__ = ["COLLECTOR_NAMES", "CORE_COLLECTORS"]

CORE_COLLECTORS = (
    "cpu",
    "diskstats",
    "filesystem",
    "loadavg",
    "meminfo",
    "netdev",
    "pressure",
    "stat",
    "systemd",
    "tcpstat",
    "textfile",
    "time",
    "uname",
)
COLLECTOR_NAMES = (*CORE_COLLECTORS, "processes", "checks")
