"""Metric families as plain data, rendered as Prometheus text 0.0.4 or OpenMetrics 1.0.

A :class:`Family` is one metric name with its type, help and samples. Collectors build
families at scrape time; :func:`render` writes them in the format the scraper asked for
(:func:`negotiate` reads the ``Accept`` header). Sample values are ints or floats;
labels are tuples of ``(name, value)`` pairs in the order they are written.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "OPENMETRICS_CONTENT_TYPE",
    "TEXT_CONTENT_TYPE",
    "Family",
    "Labels",
    "MetricType",
    "format_value",
    "negotiate",
    "render",
]

MetricType = Literal["counter", "gauge", "untyped", "histogram", "summary"]
Labels = tuple[tuple[str, str], ...]

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"


@dataclass(slots=True)
class Family:
    """One metric family. ``samples`` holds ``(suffix, labels, value)``; the suffix is
    empty except for histogram/summary parts (``_bucket``, ``_sum``, ``_count``)."""

    name: str
    type: MetricType
    help: str
    samples: list[tuple[str, Labels, float]] = field(default_factory=list)

    def add(self, value: float, labels: Labels = (), suffix: str = "") -> Family:
        self.samples.append((suffix, labels, value))
        return self


def format_value(value: float) -> str:
    """Go-compatible sample values: integers without a fraction, ``+Inf``/``-Inf``/``NaN``."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def _escape_label(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels) + "}"


def _om_type(family: Family) -> tuple[str, str]:
    """The OpenMetrics family name and type: counters drop ``_total`` from the family
    name; a counter without it (only from textfiles) is written as ``unknown``."""
    if family.type == "counter":
        if family.name.endswith("_total"):
            return family.name[: -len("_total")], "counter"
        return family.name, "unknown"
    if family.type == "untyped":
        return family.name, "unknown"
    return family.name, family.type


def render(families: Iterable[Family], *, openmetrics: bool = False) -> bytes:
    """The exposition of ``families`` (in the order given) as UTF-8 bytes."""
    out: list[str] = []
    append = out.append
    for family in families:
        if not family.samples:
            continue
        name = family.name
        if openmetrics:
            om_name, om_type = _om_type(family)
            append(f"# HELP {om_name} {_escape_help(family.help)}\n# TYPE {om_name} {om_type}\n")
        else:
            append(f"# HELP {name} {_escape_help(family.help)}\n# TYPE {name} {family.type}\n")
        for suffix, labels, value in family.samples:
            append(f"{name}{suffix}{_labels(labels)} {format_value(value)}\n")
    if openmetrics:
        append("# EOF\n")
    return "".join(out).encode()


def negotiate(accept: str | None) -> bool:
    """True when the ``Accept`` header asks for OpenMetrics (Prometheus sends it first)."""
    return accept is not None and "application/openmetrics-text" in accept
