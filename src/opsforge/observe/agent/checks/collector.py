"""Run the configured checks at scrape time, in parallel, into metric families."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from opsforge.observe.agent.checks.base import Check, CheckResult
from opsforge.observe.agent.collectors.base import ScrapeContext
from opsforge.observe.agent.exposition import Family

__all__ = ["ChecksCollector"]

logger = logging.getLogger("opsforge.observe.agent")
_MAX_WORKERS = 16


def _run(check: Check) -> CheckResult:
    try:
        return check.run()
    except Exception as exc:  # a plugin's bug is that check's failure, not the scrape's
        logger.warning("check %s raised %s: %s", check.name, type(exc).__name__, exc)
        return CheckResult(ok=False, error=f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True, slots=True)
class ChecksCollector:
    checks: tuple[Check, ...]

    def __call__(self, ctx: ScrapeContext) -> list[Family]:
        up = Family("opsforge_check_up", "gauge", "1 when the check passed, 0 when it failed.")
        duration = Family(
            "opsforge_check_duration_seconds", "gauge", "How long the check took, in seconds."
        )
        own: dict[str, Family] = {}
        if not self.checks:
            return []
        with ThreadPoolExecutor(min(_MAX_WORKERS, len(self.checks))) as pool:
            results = list(pool.map(_run, self.checks))
        for check, result in zip(self.checks, results, strict=True):
            kind = str(getattr(check, "kind", "unknown"))
            labels = (("check", check.name), ("kind", kind))
            up.add(1 if result.ok else 0, labels)
            duration.add(result.duration, labels)
            if result.error:
                logger.info("check %s failed: %s", check.name, result.error)
            for suffix, (text, value) in result.values.items():
                name = f"opsforge_check_{suffix}"
                family = own.setdefault(name, Family(name, "gauge", text))
                family.add(value, (("check", check.name),))
        return [up, duration, *own.values()]
