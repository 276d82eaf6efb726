"""Process metrics for selected processes (psutil), grouped by a configured name.

A group selects processes by executable name, by a regular expression over the
command line, or by a pidfile. Per group: how many run, CPU seconds, resident memory,
open file descriptors, threads, and the start time of the oldest (a restart shows as
a jump). A group that matches nothing reports ``opsforge_process_count 0``.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path

import psutil

from opsforge.observe.agent.collectors.base import ScrapeContext
from opsforge.observe.agent.exposition import Family

__all__ = ["ProcessGroup", "ProcessesCollector"]


@dataclass(frozen=True, slots=True)
class ProcessGroup:
    """One group: exactly one of ``exe_name``, ``cmdline`` or ``pidfile`` is set."""

    name: str
    exe_name: str | None = None
    cmdline: re.Pattern[str] | None = None
    pidfile: Path | None = None

    def matches(self, proc_name: str, cmdline: list[str] | None) -> bool:
        if self.exe_name is not None:
            return proc_name == self.exe_name
        if self.cmdline is not None:
            return bool(cmdline) and self.cmdline.search(" ".join(cmdline or ())) is not None
        return False


def _pid_from(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


@dataclass(frozen=True, slots=True)
class ProcessesCollector:
    groups: tuple[ProcessGroup, ...]

    def _select(self) -> dict[str, list[psutil.Process]]:
        selected: dict[str, list[psutil.Process]] = {g.name: [] for g in self.groups}
        scanning = [g for g in self.groups if g.pidfile is None]
        if scanning:
            for proc in psutil.process_iter(["name", "cmdline"]):
                info = proc.info
                for group in scanning:
                    if group.matches(info.get("name") or "", info.get("cmdline")):
                        selected[group.name].append(proc)
        for group in self.groups:
            if group.pidfile is not None:
                pid = _pid_from(group.pidfile)
                if pid is not None and psutil.pid_exists(pid):
                    selected[group.name].append(psutil.Process(pid))
        return selected

    def __call__(self, ctx: ScrapeContext) -> list[Family]:
        count = Family("opsforge_process_count", "gauge", "Number of processes in the group.")
        cpu = Family(
            "opsforge_process_cpu_seconds_total",
            "counter",
            "CPU seconds used by the group's running processes.",
        )
        rss = Family(
            "opsforge_process_resident_memory_bytes", "gauge", "Resident memory of the group."
        )
        fds = Family("opsforge_process_open_fds", "gauge", "Open file descriptors of the group.")
        threads = Family("opsforge_process_threads", "gauge", "Threads of the group.")
        started = Family(
            "opsforge_process_start_time_seconds",
            "gauge",
            "Start time of the group's oldest process, in unixtime.",
        )
        for group, procs in self._select().items():
            labels = (("group", group),)
            alive = 0
            user = system = memory = files = nthreads = 0.0
            oldest: float | None = None
            for proc in procs:
                try:
                    with proc.oneshot():
                        times = proc.cpu_times()
                        mem = proc.memory_info().rss
                        nthreads += proc.num_threads()
                        created = proc.create_time()
                        with contextlib.suppress(psutil.AccessDenied):
                            files += proc.num_fds()
                except (psutil.NoSuchProcess, psutil.ZombieProcess):
                    continue
                alive += 1
                user += times.user
                system += times.system
                memory += mem
                oldest = created if oldest is None else min(oldest, created)
            count.add(alive, labels)
            if not alive:
                continue
            cpu.add(user, (("group", group), ("mode", "user")))
            cpu.add(system, (("group", group), ("mode", "system")))
            rss.add(int(memory), labels)
            fds.add(int(files), labels)
            threads.add(int(nthreads), labels)
            if oldest is not None:
                started.add(oldest, labels)
        return [count, cpu, rss, fds, threads, started]
