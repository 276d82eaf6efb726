"""The agent: the configured collectors, run at scrape time, plus self-metrics.

:meth:`Agent.scrape` runs every collector in turn (no background sampling: values are
as fresh as the scrape), catches a collector's failure (it reports
``opsforge_agent_collector_success 0`` and the rest of the scrape is served) and
appends the self-metrics. ``node_scrape_collector_*`` are written too, so dashboards
made for node_exporter show the collectors' health.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from opsforge.observe.agent.checks.collector import ChecksCollector
from opsforge.observe.agent.collectors.base import Collector, Paths, ScrapeContext
from opsforge.observe.agent.collectors.memory import collect_meminfo
from opsforge.observe.agent.collectors.network import NetdevCollector, collect_tcpstat
from opsforge.observe.agent.collectors.processes import ProcessesCollector
from opsforge.observe.agent.collectors.stat import collect_cpu, collect_loadavg, collect_stat
from opsforge.observe.agent.collectors.storage import DiskstatsCollector, FilesystemCollector
from opsforge.observe.agent.collectors.system import collect_pressure, collect_time, collect_uname
from opsforge.observe.agent.collectors.systemd import SystemdCollector, systemd_running
from opsforge.observe.agent.collectors.textfile import TextfileCollector
from opsforge.observe.agent.config import DEFAULT_TEXTFILE_DIR, AgentConfig
from opsforge.observe.agent.exposition import Family, render

__all__ = ["Agent", "build_collectors"]

logger = logging.getLogger("opsforge.observe.agent")


def build_collectors(config: AgentConfig) -> dict[str, Collector]:
    """The collectors ``config`` enables, in the order they are scraped. Collectors that
    cannot apply here (systemd without systemd, textfile without a directory, processes or
    checks without any configured) are left out rather than reported as failing."""
    table: dict[str, Collector] = {
        "cpu": collect_cpu,
        "diskstats": DiskstatsCollector(config.disk_device_exclude),
        "filesystem": FilesystemCollector(config.mount_points_exclude, config.fs_types_exclude),
        "loadavg": collect_loadavg,
        "meminfo": collect_meminfo,
        "netdev": NetdevCollector(config.netdev_device_exclude),
        "pressure": collect_pressure,
        "stat": collect_stat,
        "tcpstat": collect_tcpstat,
        "time": collect_time,
        "uname": collect_uname,
    }
    if systemd_running():
        table["systemd"] = SystemdCollector(config.unit_include, config.unit_exclude)
    textfile = config.textfile_directory
    if textfile is None and DEFAULT_TEXTFILE_DIR.is_dir():
        textfile = DEFAULT_TEXTFILE_DIR
    if textfile is not None:
        table["textfile"] = TextfileCollector(textfile)
    if config.processes:
        table["processes"] = ProcessesCollector(config.processes)
    if config.checks:
        table["checks"] = ChecksCollector(config.checks)
    return {name: c for name, c in sorted(table.items()) if name in config.collectors}


@dataclass
class Agent:
    """Scrapes on demand. Thread-safe: concurrent scrapes are serialised (a scrape is
    milliseconds; two at once would only double the work)."""

    config: AgentConfig = field(default_factory=AgentConfig)
    paths: Paths = field(default_factory=Paths)
    collectors: dict[str, Collector] = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.collectors = build_collectors(self.config)

    def collect(self) -> list[Family]:
        with self._lock:
            return self._collect()

    def _collect(self) -> list[Family]:
        started = time.perf_counter()
        ctx = ScrapeContext(self.paths)
        families: list[Family] = []
        names = ("opsforge_agent_collector", "node_scrape_collector")
        success = [Family(f"{n}_success", "gauge", "Whether a collector succeeded.") for n in names]
        duration = [
            Family(f"{n}_duration_seconds", "gauge", "Duration of a collector scrape.")
            for n in names
        ]
        for name, collector in self.collectors.items():
            t0 = time.perf_counter()
            try:
                families.extend(collector(ctx))
                ok = 1
            except Exception as exc:  # one broken collector must not break the scrape
                logger.warning("collector %s failed: %s: %s", name, type(exc).__name__, exc)
                ok = 0
            elapsed = time.perf_counter() - t0
            labels = (("collector", name),)
            for family in success:
                family.add(ok, labels)
            for family in duration:
                family.add(elapsed, labels)
        families.extend((*duration, *success))
        families.append(
            Family(
                "opsforge_agent_scrape_duration_seconds",
                "gauge",
                "Time the agent took to collect this scrape, in seconds.",
            ).add(time.perf_counter() - started)
        )
        return families

    def scrape(self, *, openmetrics: bool = False) -> bytes:
        """The whole exposition, ready to send."""
        return render(self.collect(), openmetrics=openmetrics)
