"""Memory: every field of ``/proc/meminfo`` as node_exporter names it.

Read from the kernel's file, not psutil: psutil's ``cached`` adds SReclaimable and its
``used`` is derived, while dashboards built for node_exporter (1860 "RAM Used" is
``MemTotal - MemAvailable``) expect the kernel's own fields. ``Active(anon)`` becomes
``node_memory_Active_anon_bytes``; fields without a ``kB`` unit (``HugePages_Total``)
keep their name without ``_bytes``.
"""

from __future__ import annotations

from opsforge.observe.agent.collectors.base import ScrapeContext
from opsforge.observe.agent.exposition import Family

__all__ = ["collect_meminfo"]


def collect_meminfo(ctx: ScrapeContext) -> list[Family]:
    families: list[Family] = []
    for line in ctx.proc("meminfo").splitlines():
        key, sep, rest = line.partition(":")
        if not sep:
            continue
        parts = rest.split()
        if not parts:
            continue
        key = key.replace("(", "_").replace(")", "")
        value = int(parts[0])
        if len(parts) > 1 and parts[1] == "kB":
            key += "_bytes"
            value *= 1024
        families.append(
            Family(f"node_memory_{key}", "gauge", f"Memory information field {key}.").add(value)
        )
    families.sort(key=lambda f: f.name)
    return families
