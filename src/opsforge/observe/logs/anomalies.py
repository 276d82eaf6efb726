"""Explainable log anomalies per time window, each with the lines that show it.

Lines are counted in fixed windows of event time (``window`` seconds). When a
window closes, it is compared with a baseline learned from the windows before:
an exponentially weighted mean and variance (EWMA, ``alpha``) of each count,
with a Poisson floor on the spread so quiet series do not alarm on noise.

* ``new_template``: a template never seen before (after the warm-up, or at once
  when templates were loaded from an earlier run);
* ``rate_spike``: a template's count is at least ``spike_ratio`` times its
  baseline, ``z`` deviations above it, at least ``min_count``, and less likely
  than ``p_value`` for a Poisson count at the baseline rate (rare templates do
  not alarm on noise);
* ``error_ratio``: the share of error-level lines jumps by ``error_jump`` and
  doubles against its baseline (with at least ``min_count`` error lines);
* ``host_burst``: one host's line count spikes as a template's would.

Every report names the window, the numbers it was judged on and up to
``evidence`` example lines, so a person can check it without re-running anything.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["Anomaly", "AnomalyConfig", "AnomalyDetector", "Baseline", "parse_time"]

ERROR_LEVELS = frozenset(
    {"error", "err", "crit", "critical", "fatal", "severe", "alert", "emerg", "emergency", "e", "f"}
)


@dataclass(frozen=True)
class AnomalyConfig:
    window: float = 60.0
    alpha: float = 0.2
    warmup: int = 5
    spike_ratio: float = 3.0
    z: float = 4.0
    min_count: int = 5
    error_jump: float = 0.2
    p_value: float = 1e-4
    evidence: int = 3
    max_gap_windows: int = 1000


@dataclass
class Baseline:
    """EWMA mean and variance of one count series."""

    mean: float = 0.0
    var: float = 0.0
    windows: int = 0

    def update(self, value: float, alpha: float) -> None:
        if self.windows == 0:
            self.mean = value
        else:
            delta = value - self.mean
            self.mean += alpha * delta
            self.var = (1 - alpha) * (self.var + alpha * delta * delta)
        self.windows += 1

    def spread(self) -> float:
        return max(math.sqrt(self.var), math.sqrt(max(self.mean, 1.0)))


@dataclass(frozen=True)
class Anomaly:
    """One report: what, when, the numbers, and the lines that show it."""

    kind: str
    window_start: str
    window_end: str
    subject: str
    observed: float
    baseline: float
    detail: str
    evidence: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_time(text: str) -> float | None:
    """Epoch seconds of an ISO-8601-like timestamp (``,`` or ``.`` fractions), else None."""
    if not text:
        return None
    candidate = text.strip().replace(",", ".", 1)
    try:
        value = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


class _Window:
    def __init__(self, start: float) -> None:
        self.start = start
        self.templates: Counter[int] = Counter()
        self.hosts: Counter[str] = Counter()
        self.errors = 0
        self.total = 0
        self.examples: dict[tuple[str, Any], list[str]] = {}

    def example(self, key: tuple[str, Any], line: str, limit: int) -> None:
        kept = self.examples.setdefault(key, [])
        if len(kept) < limit:
            kept.append(line)


class AnomalyDetector:
    """Feed lines with :meth:`observe`; anomalies come out as windows close."""

    def __init__(
        self,
        config: AnomalyConfig | None = None,
        *,
        known: set[int] | None = None,
        resolve: Callable[[int], int] = lambda template_id: template_id,
        before_judging: Callable[[], object] = lambda: None,
    ) -> None:
        """``resolve`` maps a template id to the id it was merged into (the miner's);
        ``before_judging`` runs before each window is judged (the miner consolidates)."""
        self.config = config or AnomalyConfig()
        self.resolve = resolve
        self.before_judging = before_judging
        self.known: set[int] = set(known or ())
        self._trust_known = bool(known)
        self.templates: dict[int, Baseline] = {}
        self.hosts: dict[str, Baseline] = {}
        self.error_ratio = Baseline()
        self.windows_closed = 0
        self._current: _Window | None = None
        self.names: dict[int, str] = {}

    def observe(
        self,
        when: float,
        template_id: int,
        template: str,
        line: str,
        *,
        level: str = "",
        host: str = "",
    ) -> list[Anomaly]:
        """Count one line; the anomalies of any window this line closes."""
        found: list[Anomaly] = []
        width = self.config.window
        if self._current is None:
            self._current = _Window(when - when % width)
        elif when >= self._current.start + width:
            found.extend(self._close_until(when))
        window = self._current
        window.total += 1
        window.templates[template_id] += 1
        self.names[template_id] = template
        self.names.setdefault(self.resolve(template_id), template)
        limit = self.config.evidence
        window.example(("template", template_id), line, limit)
        if host:
            window.hosts[host] += 1
            window.example(("host", host), line, limit)
        if level.lower() in ERROR_LEVELS:
            window.errors += 1
            window.example(("errors", None), line, limit)
        return found

    def tick(self, now: float) -> list[Anomaly]:
        """Close the open window if ``now`` is past its end (following live input)."""
        if self._current is None or now < self._current.start + self.config.window:
            return []
        return self._close_until(now)

    def flush(self) -> list[Anomaly]:
        """Close the open window (end of input)."""
        if self._current is None:
            return []
        found = list(self._judge(self._current))
        self._current = None
        return found

    def _close_until(self, when: float) -> list[Anomaly]:
        assert self._current is not None
        found = list(self._judge(self._current))
        width = self.config.window
        start = self._current.start + width
        gap = 0
        while start + width <= when and gap < self.config.max_gap_windows:
            found.extend(self._judge(_Window(start)))  # quiet windows teach the baseline too
            start += width
            gap += 1
        self._current = _Window(when - when % width)
        return found

    def _judge(self, window: _Window) -> Iterator[Anomaly]:
        self.before_judging()
        self._resolve_window(window)
        config = self.config
        warm = self.windows_closed >= config.warmup
        start = _iso(window.start)
        end = _iso(window.start + config.window)

        def report(
            kind: str, key: tuple[str, Any], subject: str, observed: float, base: float, detail: str
        ) -> Anomaly:
            return Anomaly(
                kind,
                start,
                end,
                subject,
                observed,
                round(base, 3),
                detail,
                tuple(window.examples.get(key, ())),
            )

        for template_id, count in window.templates.items():
            if template_id not in self.known:
                self.known.add(template_id)
                if warm or self._trust_known:
                    yield report(
                        "new_template",
                        ("template", template_id),
                        self.names[template_id],
                        count,
                        0.0,
                        f"template {template_id} first seen ({count} lines)",
                    )
        for template_id, baseline in self.templates.items():
            count = window.templates.get(template_id, 0)
            if warm and self._spikes(count, baseline):
                yield report(
                    "rate_spike",
                    ("template", template_id),
                    self.names[template_id],
                    count,
                    baseline.mean,
                    f"template {template_id}: {count} lines, baseline "
                    f"{baseline.mean:.1f} ± {baseline.spread():.1f}",
                )
        for host, baseline in self.hosts.items():
            count = window.hosts.get(host, 0)
            if warm and self._spikes(count, baseline):
                yield report(
                    "host_burst",
                    ("host", host),
                    host,
                    count,
                    baseline.mean,
                    f"host {host}: {count} lines, baseline {baseline.mean:.1f}",
                )
        ratio = window.errors / window.total if window.total else 0.0
        base = self.error_ratio.mean
        if (
            warm
            and window.errors >= config.min_count
            and ratio >= base + config.error_jump
            and ratio >= 2 * base
        ):
            yield report(
                "error_ratio",
                ("errors", None),
                "error-level lines",
                round(ratio, 3),
                base,
                f"{window.errors} of {window.total} lines at error level ({ratio:.0%}), "
                f"baseline {base:.0%}",
            )
        self._learn(window)

    def _resolve_window(self, window: _Window) -> None:
        """Count merged templates under the id they live on as."""
        resolve = self.resolve
        counts: Counter[int] = Counter()
        for template_id, count in window.templates.items():
            counts[resolve(template_id)] += count
        window.templates = counts
        examples: dict[tuple[str, Any], list[str]] = {}
        for (kind, key), lines in window.examples.items():
            if kind == "template":
                key = resolve(key)
            examples.setdefault((kind, key), []).extend(lines)
        window.examples = examples
        for old in list(self.templates):
            new = resolve(old)
            if new != old:
                baseline = self.templates.pop(old)
                self.templates.setdefault(new, baseline)
        self.known = {resolve(template_id) for template_id in self.known}

    def _spikes(self, count: int, baseline: Baseline) -> bool:
        config = self.config
        if count < config.min_count or baseline.windows < config.warmup:
            return False
        return (
            count >= config.spike_ratio * max(baseline.mean, 1.0)
            and count - baseline.mean >= config.z * baseline.spread()
            and _poisson_tail(count, max(baseline.mean, 0.5)) < config.p_value
        )

    def _learn(self, window: _Window) -> None:
        alpha = self.config.alpha
        for template_id in window.templates:
            self.templates.setdefault(template_id, Baseline())
        for host in window.hosts:
            self.hosts.setdefault(host, Baseline())
        for template_id, baseline in self.templates.items():
            baseline.update(window.templates.get(template_id, 0), alpha)
        for host, baseline in self.hosts.items():
            baseline.update(window.hosts.get(host, 0), alpha)
        if window.total:
            self.error_ratio.update(window.errors / window.total, alpha)
        self.windows_closed += 1


def _poisson_tail(count: int, lam: float) -> float:
    """P(X >= count) for X ~ Poisson(lam): how surprising ``count`` is at rate ``lam``."""
    if count > lam + 40 * math.sqrt(lam) + 40:
        return 0.0
    term = math.exp(-lam)
    below = 0.0
    for k in range(count):
        below += term
        term *= lam / (k + 1)
    return max(0.0, 1.0 - below)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")
