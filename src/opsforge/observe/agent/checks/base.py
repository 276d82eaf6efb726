"""Checks: small probes run at scrape time, one metric family set per kind.

A check kind is a class registered in the ``opsforge.checks`` entry-point group
(built-ins register the same way). It is built from its config section
(``from_config``) and its :meth:`Check.run` returns a :class:`CheckResult`: whether
the check passed plus the kind's own values (``opsforge_check_<kind>_<what>``).
Every check also yields ``opsforge_check_up{check,kind}`` and
``opsforge_check_duration_seconds{check,kind}``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import ClassVar, Protocol

from opsforge.observe.config_nodes import Section

__all__ = ["ENTRY_POINT_GROUP", "Check", "CheckKind", "CheckResult", "check_kinds", "timed"]

ENTRY_POINT_GROUP = "opsforge.checks"


@dataclass(slots=True)
class CheckResult:
    """``values``: metric name suffix → (help, value), e.g.
    ``"http_status_code": ("HTTP status code of the response.", 200)``."""

    ok: bool
    duration: float = 0.0
    values: dict[str, tuple[str, float]] = field(default_factory=dict)
    error: str | None = None


class Check(Protocol):
    name: str

    def run(self) -> CheckResult: ...


class CheckKind(Protocol):
    kind: ClassVar[str]

    @classmethod
    def from_config(cls, name: str, section: Section) -> Check: ...


def check_kinds() -> dict[str, EntryPoint]:
    """Every installed check kind by its name; ``.load()`` gives the :class:`CheckKind`
    (loaded only for the kinds a config uses)."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def timed(started: float) -> float:
    return time.perf_counter() - started
