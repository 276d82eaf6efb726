"""The outcome of a whole run: per-host status, counts and the exit code.

A host's status is the *worst* status among its steps, in this order
(most severe first)::

    interrupted > host_key_mismatch > auth_failed > unreachable
                > timed_out > failed > changed > ok > skipped

so a host with one changed and one failed step is ``failed``; a host whose
steps were all skipped is ``skipped``; a host whose connection broke is its
connect state even if a later step also failed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opsforge.engine.exitcodes import ExitCode
from opsforge.types import HostStatus

__all__ = ["STATUS_SEVERITY", "RunSummary", "new_run_id", "worst_status"]

#: Statuses from least to most severe; see the module docstring.
STATUS_SEVERITY: tuple[HostStatus, ...] = (
    HostStatus.SKIPPED,
    HostStatus.OK,
    HostStatus.CHANGED,
    HostStatus.FAILED,
    HostStatus.TIMED_OUT,
    HostStatus.UNREACHABLE,
    HostStatus.AUTH_FAILED,
    HostStatus.HOST_KEY_MISMATCH,
    HostStatus.INTERRUPTED,
)
_RANK = {status: rank for rank, status in enumerate(STATUS_SEVERITY)}


def worst_status(statuses: Iterable[HostStatus]) -> HostStatus:
    """The most severe of ``statuses``; SKIPPED when there are none."""
    return max(statuses, key=_RANK.__getitem__, default=HostStatus.SKIPPED)


def new_run_id(now: float | None = None) -> str:
    """A sortable, unique run id: ``20261124T031500Z-1a2b3c4d`` (UTC time + 32 random bits)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{os.urandom(4).hex()}"


def _count(statuses: Iterable[HostStatus]) -> dict[HostStatus, int]:
    counts = dict.fromkeys(HostStatus, 0)
    for status in statuses:
        counts[status] += 1
    return counts


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a run did, host by host.

    ``host_status`` keeps plan order. ``step_status`` holds every step's final
    status by step id. ``started``/``ended`` are epoch seconds.
    """

    run_id: str
    started: float
    ended: float
    host_status: Mapping[str, HostStatus]
    step_status: Mapping[str, HostStatus] = field(default_factory=dict)
    interrupted: bool = False

    @property
    def duration(self) -> float:
        return max(0.0, self.ended - self.started)

    @property
    def hosts_total(self) -> int:
        return len(self.host_status)

    @property
    def host_counts(self) -> Mapping[HostStatus, int]:
        """How many hosts ended in each status (every status present, maybe 0)."""
        return _count(self.host_status.values())

    @property
    def step_counts(self) -> Mapping[HostStatus, int]:
        """How many steps ended in each status (every status present, maybe 0)."""
        return _count(self.step_status.values())

    def hosts_with(self, *statuses: HostStatus) -> list[str]:
        """Hosts (plan order) whose final status is one of ``statuses``."""
        return [host for host, status in self.host_status.items() if status in statuses]

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(s.is_success for s in self.host_status.values())

    def exit_code(self) -> ExitCode:
        """The process exit code for this run.

        130 if interrupted; else 1 if any host failed or timed out; else 3 if any
        host had a connect failure (unreachable, auth, host key); else 0.
        """
        statuses = set(self.host_status.values())
        if self.interrupted or HostStatus.INTERRUPTED in statuses:
            return ExitCode.INTERRUPTED
        if statuses & {HostStatus.FAILED, HostStatus.TIMED_OUT}:
            return ExitCode.FAILED
        if any(s.is_connect_failure for s in statuses):
            return ExitCode.UNREACHABLE
        return ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form; the run history reads exactly these keys."""
        return {
            "run_id": self.run_id,
            "started": self.started,
            "ended": self.ended,
            "duration": round(self.duration, 6),
            "interrupted": self.interrupted,
            "exit_code": int(self.exit_code()),
            "hosts_total": self.hosts_total,
            "host_status": {host: s.value for host, s in self.host_status.items()},
            "host_counts": {s.value: n for s, n in self.host_counts.items()},
            "step_counts": {s.value: n for s, n in self.step_counts.items()},
        }
