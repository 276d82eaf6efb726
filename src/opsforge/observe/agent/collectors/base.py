"""What every collector gets: the paths it reads and a per-scrape cache of files.

A collector is a callable ``(ScrapeContext) -> list[Family]``, registered by name.
Several collectors read the same file (``/proc/stat`` serves cpu and stat): the
context reads each file at most once per scrape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from opsforge.observe.agent.exposition import Family

__all__ = ["Collector", "Paths", "ScrapeContext"]


@dataclass(frozen=True, slots=True)
class Paths:
    """Where the kernel's files are (``--path.procfs``/``--path.sysfs`` in node_exporter);
    tests point these at fixture trees."""

    proc: Path = Path("/proc")
    sys: Path = Path("/sys")
    udev_data: Path = Path("/run/udev/data")


@dataclass(slots=True)
class ScrapeContext:
    """One scrape: the paths and the files read so far."""

    paths: Paths = field(default_factory=Paths)
    _cache: dict[str, str] = field(default_factory=dict)

    def proc(self, relative: str) -> str:
        """The text of ``<procfs>/<relative>``, read once per scrape (OSError propagates)."""
        text = self._cache.get(relative)
        if text is None:
            with open(self.paths.proc / relative, encoding="utf-8", errors="replace") as f:
                text = f.read()
            self._cache[relative] = text
        return text

    def sys_text(self, relative: str) -> str | None:
        """The stripped text of ``<sysfs>/<relative>``, or None when it cannot be read."""
        try:
            with open(self.paths.sys / relative, encoding="utf-8", errors="replace") as f:
                return f.read().strip()
        except OSError:
            return None


Collector = Callable[[ScrapeContext], list[Family]]
