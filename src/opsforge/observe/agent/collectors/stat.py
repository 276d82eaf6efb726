"""CPU, kernel counters and load: ``/proc/stat`` and ``/proc/loadavg``.

node_exporter's cpu, stat and loadavg collectors, same names, types and labels.
``/proc/stat`` counts in USER_HZ ticks; ``user`` and ``nice`` include guest time,
exactly as the kernel (and node_exporter) report them.
"""

from __future__ import annotations

import os

from opsforge.observe.agent.collectors.base import ScrapeContext
from opsforge.observe.agent.exposition import Family, MetricType

__all__ = ["collect_cpu", "collect_loadavg", "collect_stat"]

_TICKS = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0
# /proc/stat column order after "cpuN"
_MODES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def collect_cpu(ctx: ScrapeContext) -> list[Family]:
    seconds = Family("node_cpu_seconds_total", "counter", "Seconds the CPUs spent in each mode.")
    guest = Family(
        "node_cpu_guest_seconds_total",
        "counter",
        "Seconds the CPUs spent in guests (VMs) for each mode.",
    )
    for line in ctx.proc("stat").splitlines():
        if not line.startswith("cpu") or line.startswith("cpu "):
            continue
        fields = line.split()
        cpu = fields[0][3:]
        values = fields[1:]
        for index, mode in enumerate(_MODES):
            if index < len(values):
                seconds.add(int(values[index]) / _TICKS, (("cpu", cpu), ("mode", mode)))
        if len(values) >= 10:
            guest.add(int(values[8]) / _TICKS, (("cpu", cpu), ("mode", "user")))
            guest.add(int(values[9]) / _TICKS, (("cpu", cpu), ("mode", "nice")))
    # node_exporter sorts by cpu, then mode
    seconds.samples.sort(key=lambda s: (int(s[1][0][1]), s[1][1][1]))
    return [seconds, guest]


_STAT_FAMILIES: dict[str, tuple[str, MetricType, str]] = {
    "intr": ("node_intr_total", "counter", "Total number of interrupts serviced."),
    "ctxt": ("node_context_switches_total", "counter", "Total number of context switches."),
    "btime": ("node_boot_time_seconds", "gauge", "Node boot time, in unixtime."),
    "processes": ("node_forks_total", "counter", "Total number of forks."),
    "procs_running": ("node_procs_running", "gauge", "Number of processes in runnable state."),
    "procs_blocked": (
        "node_procs_blocked",
        "gauge",
        "Number of processes blocked waiting for I/O to complete.",
    ),
}


def collect_stat(ctx: ScrapeContext) -> list[Family]:
    found: dict[str, int] = {}
    for line in ctx.proc("stat").splitlines():
        key, _, rest = line.partition(" ")
        if key in _STAT_FAMILIES:
            found[key] = int(rest.split(None, 1)[0])
    families = []
    for key, (name, kind, text) in _STAT_FAMILIES.items():
        if key in found:
            families.append(Family(name, kind, text).add(found[key]))
    return families


def collect_loadavg(ctx: ScrapeContext) -> list[Family]:
    parts = ctx.proc("loadavg").split()
    return [
        Family("node_load1", "gauge", "1m load average.").add(float(parts[0])),
        Family("node_load5", "gauge", "5m load average.").add(float(parts[1])),
        Family("node_load15", "gauge", "15m load average.").add(float(parts[2])),
    ]
