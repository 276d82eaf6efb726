"""opsforge watching itself: the metrics of every run, pushed or exposed.

:class:`RunMetrics` is an event subscriber (it reads only ``event.to_dict()``, so it
serves every domain's runs: deploys today, pipelines and scans later). At the end of
the run it writes, for the run's command (``apply``, ``exec``, ...)::

    opsforge_run_duration_seconds{command}                 seconds the run took
    opsforge_run_exit_code{command}                        the run's exit code
    opsforge_run_finished_timestamp_seconds{command}       when it ended (unixtime)
    opsforge_run_hosts{command,status}                     hosts per final status
    opsforge_run_host_duration_seconds{command,host}       per host
    opsforge_run_host_operations{command,host,status}      operations per host and status
                                                           (ok, changed, failed, ...)

to a Pushgateway (``OPSFORGE_METRICS_PUSH=URL``: job ``opsforge_run``, instance = the
command, so each command keeps its last run) and/or as a ``.prom`` file in a textfile
directory the agent serves (``OPSFORGE_METRICS_TEXTFILE=DIR``, written atomically).
A metrics failure is reported and never fails the run.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsforge.observe.errors import PushError

if TYPE_CHECKING:  # the agent package is imported only when a run ends with metrics on
    from opsforge.observe.agent.exposition import Family

__all__ = ["PUSH_ENV", "TEXTFILE_ENV", "RunMetrics", "run_metrics_from_env"]

logger = logging.getLogger("opsforge.observe.runmetrics")

PUSH_ENV = "OPSFORGE_METRICS_PUSH"
TEXTFILE_ENV = "OPSFORGE_METRICS_TEXTFILE"
JOB = "opsforge_run"


@dataclass
class RunMetrics:
    command: str
    push_url: str | None = None
    textfile_dir: Path | None = None
    on_error: Callable[[str], None] | None = None
    _operations: dict[tuple[str, str], int] = field(default_factory=dict)
    _host_durations: dict[str, float] = field(default_factory=dict)
    families: list[Family] = field(default_factory=list)

    def __call__(self, event: Any) -> None:
        kind = getattr(event, "kind", None)
        if kind not in ("operation", "host_finished", "run_finished"):
            return
        data = event.to_dict()
        if kind == "operation":
            key = (str(data["host"]), str(data["status"]))
            self._operations[key] = self._operations.get(key, 0) + 1
        elif kind == "host_finished":
            self._host_durations[str(data["host"])] = float(data.get("duration") or 0.0)
        else:
            self.families = self._families(data["summary"])
            self._publish()

    def _families(self, summary: dict[str, Any]) -> list[Family]:
        from opsforge.observe.agent.exposition import Family

        cmd = ("command", self.command)
        duration = Family(
            "opsforge_run_duration_seconds", "gauge", "How long the last run took, in seconds."
        ).add(float(summary["duration"]), (cmd,))
        exit_code = Family("opsforge_run_exit_code", "gauge", "Exit code of the last run.").add(
            int(summary["exit_code"]), (cmd,)
        )
        finished = Family(
            "opsforge_run_finished_timestamp_seconds",
            "gauge",
            "When the last run ended, in unixtime.",
        ).add(float(summary.get("ended") or time.time()), (cmd,))
        hosts = Family("opsforge_run_hosts", "gauge", "Hosts of the last run by final status.")
        for status, count in sorted(summary.get("host_counts", {}).items()):
            hosts.add(int(count), (cmd, ("status", str(status))))
        host_duration = Family(
            "opsforge_run_host_duration_seconds", "gauge", "Seconds the last run spent per host."
        )
        for host, seconds in sorted(self._host_durations.items()):
            host_duration.add(seconds, (cmd, ("host", host)))
        operations = Family(
            "opsforge_run_host_operations",
            "gauge",
            "Operations of the last run per host and status (ok, changed, failed, ...).",
        )
        for (host, status), count in sorted(self._operations.items()):
            operations.add(count, (cmd, ("host", host), ("status", status)))
        return [duration, exit_code, finished, hosts, host_duration, operations]

    def _publish(self) -> None:
        from opsforge.observe.agent.exposition import render
        from opsforge.observe.agent.push import group_url, push_exposition

        body = render(self.families)
        if self.push_url:
            try:
                push_exposition(group_url(self.push_url, JOB, self.command), body)
            except PushError as exc:
                self._error(str(exc))
        if self.textfile_dir is not None:
            path = self.textfile_dir / f"opsforge_run_{self.command}.prom"
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                tmp.write_bytes(body)
                tmp.replace(path)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                self._error(f"cannot write run metrics to {path}: {exc.strerror or exc}")

    def _error(self, message: str) -> None:
        logger.warning("%s", message)
        if self.on_error is not None:
            self.on_error(message)


def run_metrics_from_env(
    command: str, on_error: Callable[[str], None] | None = None
) -> RunMetrics | None:
    """The subscriber the environment asks for (``OPSFORGE_METRICS_PUSH`` /
    ``OPSFORGE_METRICS_TEXTFILE``), or None when neither is set."""
    push = os.environ.get(PUSH_ENV) or None
    textfile = os.environ.get(TEXTFILE_ENV) or None
    if push is None and textfile is None:
        return None
    return RunMetrics(
        command=command,
        push_url=push,
        textfile_dir=Path(textfile) if textfile else None,
        on_error=on_error,
    )
