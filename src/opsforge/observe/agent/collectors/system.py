"""uname, time and pressure stall information (PSI): node_exporter's uname, time and
pressure collectors."""

from __future__ import annotations

import os
import time

from opsforge.observe.agent.collectors.base import ScrapeContext
from opsforge.observe.agent.exposition import Family

__all__ = ["collect_pressure", "collect_time", "collect_uname"]


def collect_uname(ctx: ScrapeContext) -> list[Family]:
    uname = os.uname()
    try:
        domainname = ctx.proc("sys/kernel/domainname").strip()
    except OSError:
        domainname = "(none)"
    family = Family(
        "node_uname_info",
        "gauge",
        "Labeled system information as provided by the uname system call.",
    )
    family.add(
        1,
        (
            ("domainname", domainname),
            ("machine", uname.machine),
            ("nodename", uname.nodename),
            ("release", uname.release),
            ("sysname", uname.sysname),
            ("version", uname.version),
        ),
    )
    return [family]


def collect_time(ctx: ScrapeContext) -> list[Family]:
    now = time.time()
    local = time.localtime(now)
    families = [
        Family("node_time_seconds", "gauge", "System time in seconds since epoch (1970).").add(now),
        Family("node_time_zone_offset_seconds", "gauge", "System time zone offset in seconds.").add(
            local.tm_gmtoff, (("time_zone", local.tm_zone),)
        ),
    ]
    available = Family(
        "node_time_clocksource_available_info",
        "gauge",
        "Available clocksources read from '/sys/devices/system/clocksource'.",
    )
    current = Family(
        "node_time_clocksource_current_info",
        "gauge",
        "Current clocksource read from '/sys/devices/system/clocksource'.",
    )
    base = ctx.paths.sys / "devices/system/clocksource"
    try:
        devices = sorted(p.name for p in base.iterdir() if p.name.startswith("clocksource"))
    except OSError:
        devices = []
    for device in devices:
        number = device[len("clocksource") :]
        for name in (
            ctx.sys_text(f"devices/system/clocksource/{device}/available_clocksource") or ""
        ).split():
            available.add(1, (("clocksource", name), ("device", number)))
        chosen = ctx.sys_text(f"devices/system/clocksource/{device}/current_clocksource")
        if chosen:
            current.add(1, (("clocksource", chosen), ("device", number)))
    available.samples.sort()
    return [*families, available, current]


# (resource, PSI line) -> (family, help)
_PRESSURE = {
    ("cpu", "some"): (
        "node_pressure_cpu_waiting_seconds_total",
        "Total time in seconds that processes have waited for CPU time",
    ),
    ("io", "some"): (
        "node_pressure_io_waiting_seconds_total",
        "Total time in seconds that processes have waited due to IO congestion",
    ),
    ("io", "full"): (
        "node_pressure_io_stalled_seconds_total",
        "Total time in seconds no process could make progress due to IO congestion",
    ),
    ("memory", "some"): (
        "node_pressure_memory_waiting_seconds_total",
        "Total time in seconds that processes have waited for memory",
    ),
    ("memory", "full"): (
        "node_pressure_memory_stalled_seconds_total",
        "Total time in seconds no process could make progress due to memory congestion",
    ),
}


def collect_pressure(ctx: ScrapeContext) -> list[Family]:
    """PSI ``total=`` (microseconds) as seconds; fails where the kernel has no PSI."""
    families = []
    for resource in ("cpu", "io", "memory"):
        text = ctx.proc(f"pressure/{resource}")
        for line in text.splitlines():
            kind, _, rest = line.partition(" ")
            meta = _PRESSURE.get((resource, kind))
            if meta is None:
                continue
            for item in rest.split():
                if item.startswith("total="):
                    families.append(Family(meta[0], "counter", meta[1]).add(int(item[6:]) / 1e6))
    families.sort(key=lambda f: f.name)
    return families
