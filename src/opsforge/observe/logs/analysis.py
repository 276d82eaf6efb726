"""Records to anomalies: mine each record's message, then count it in its window.

:class:`LogAnalyzer` ties the parser's records, the :class:`TemplateMiner` and
the :class:`AnomalyDetector` together. A record's time is its ``@timestamp``;
one without a usable time takes the last time seen, and a file with no times at
all gets one window per ``lines_per_window`` lines. When following live input
the arrival time is used instead.
"""

from __future__ import annotations

from typing import Any

from opsforge.observe.logs.anomalies import Anomaly, AnomalyConfig, AnomalyDetector, parse_time
from opsforge.observe.logs.miner import TemplateMiner

__all__ = ["LogAnalyzer"]


class LogAnalyzer:
    """Feed records; get anomalies as windows close."""

    def __init__(
        self,
        miner: TemplateMiner,
        config: AnomalyConfig | None = None,
        *,
        lines_per_window: int = 1000,
    ) -> None:
        self.miner = miner
        self.config = config or AnomalyConfig()
        known = {miner.resolve(t) for t in miner.templates}
        self.detector = AnomalyDetector(
            self.config, known=known, resolve=miner.resolve, before_judging=miner.consolidate
        )
        self.lines_per_window = lines_per_window
        self._last_time: float | None = None
        self._lines = 0

    def feed(self, record: dict[str, Any], *, now: float | None = None) -> list[Anomaly]:
        """Mine and count one record (``now``: arrival time, for live input)."""
        self._lines += 1
        stamp = str(record.get("@timestamp", ""))
        when = now if now is not None else parse_time(stamp)
        if when is None:
            when = self._last_time
        if when is None:
            when = self._lines // self.lines_per_window * self.config.window
        else:
            self._last_time = when
        message = str(record.get("message", "")).split("\n", 1)[0]
        line = str(record.get("event.original", message))
        template_id = self.miner.add(message, seen=stamp, example=line)
        template = self.miner.templates[self.miner.resolve(template_id)].text
        host = str(record.get("host.name") or record.get("source.ip") or "")
        level = str(record.get("log.level", ""))
        return self.detector.observe(when, template_id, template, line, level=level, host=host)

    def tick(self, now: float) -> list[Anomaly]:
        return self.detector.tick(now)

    def flush(self) -> list[Anomaly]:
        found = self.detector.flush()
        self.miner.consolidate()
        return found
