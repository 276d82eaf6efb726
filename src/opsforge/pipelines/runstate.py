"""The state one pipeline run shares between its jobs: settings, workdirs, results, locks."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsforge.errors import UsageError
from opsforge.pipelines.executors import DockerState
from opsforge.pipelines.masking import Masker
from opsforge.pipelines.planner import PipelinePlan
from opsforge.pipelines.records import JobRecord
from opsforge.pipelines.services import SERVICE_WAIT_TIMEOUT
from opsforge.pipelines.workspace import RUNTIME_DIR, Workspace, safe_name
from opsforge.types import ConnectOptions, HostSpec

if TYPE_CHECKING:  # imported when an ssh job needs them: they are slow to import
    from opsforge.connectors.pool import ConnectionPool

__all__ = ["RunSettings", "RunState"]


@dataclass(frozen=True, slots=True)
class RunSettings:
    """How to run. ``run_dir``: logs, artifacts, workdirs of this run (default
    ``<root>/.opsforge/runs/<run_id>``). ``cache_dir``/``uptodate_dir`` default to
    ``<root>/.opsforge/cache`` and ``.../uptodate``. ``executor``: force ``shell`` for
    every job (``docker`` jobs fall back to it anyway when dockerd is unusable).
    ``variables``: ``--var`` values, highest precedence. ``inventory``: where ssh jobs
    find their hosts. ``services_timeout``: how long a job's services may take to
    become ready (GitLab's ``wait_for_services_timeout``)."""

    in_place: bool = False
    variables: Mapping[str, str] = field(default_factory=dict)
    executor: str | None = None
    run_dir: Path | None = None
    cache_dir: Path | None = None
    uptodate_dir: Path | None = None
    after_script_timeout: float = 300.0
    inventory: str | None = None
    concurrency: int | None = None
    keep_workdirs: bool = False
    services_timeout: float = SERVICE_WAIT_TIMEOUT


#: run directories kept under ``.opsforge/runs`` (the oldest are removed)
KEEP_RUNS = 20


def _old_runs(runs: Path, keep: int) -> list[Path]:
    """The run directories beyond the newest ``keep`` (run ids sort by time)."""
    if not runs.is_dir():
        return []
    names = sorted(p.name for p in runs.iterdir() if p.is_dir())
    return [runs / name for name in names[: max(0, len(names) - keep)]]


def _remove(paths: list[Path]) -> None:
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


class RunState:
    """Shared by every job action of one run."""

    def __init__(
        self, plan: PipelinePlan, settings: RunSettings, run_id: str, masker: Masker
    ) -> None:
        self.plan = plan
        self.settings = settings
        self.run_id = run_id
        self.root = plan.pipeline.root
        runtime = self.root / RUNTIME_DIR
        self.run_dir = settings.run_dir or runtime / "runs" / run_id
        self.cache_dir = settings.cache_dir or runtime / "cache"
        self.uptodate_dir = settings.uptodate_dir or runtime / "uptodate"
        self._pruner: threading.Thread | None = None
        if settings.run_dir is None:  # old runs go while this one works (joined in close)
            old = _old_runs(runtime / "runs", KEEP_RUNS - 1)
            if old:
                self._pruner = threading.Thread(target=_remove, args=(old,), daemon=True)
                self._pruner.start()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if settings.run_dir is None and not (runtime / ".gitignore").exists():
            (runtime / ".gitignore").write_text("# opsforge runs, caches and records\n*\n")
        self.workspace = Workspace(self.root, self.run_dir, in_place=settings.in_place)
        self.masker = masker
        self.results: dict[str, JobRecord] = {}
        self.failed_groups: set[str] = set()  # matrix groups with a failed fail-fast cell
        self._locks: dict[str, asyncio.Lock] = {}
        self.docker = DockerState()  # dockerd asked once per run, each image inspected once
        self.base_env = dict(os.environ)
        self._inventory: Any = None  # opsforge.inventory.Inventory, loaded on demand
        self._pool: ConnectionPool | None = None

    def host_spec(self, name: str) -> HostSpec:
        """The inventory host ``name`` (``--inventory``) for an ssh job."""
        if self._inventory is None:
            source = self.settings.inventory
            if not source:
                raise UsageError(f"host {name!r}: ssh jobs need an inventory (--inventory)")
            from opsforge.inventory import load_inventory

            self._inventory = load_inventory([source])
        spec: HostSpec = self._inventory.host(name).spec()
        return spec

    @property
    def pool(self) -> ConnectionPool:
        """One connection per host for the whole run (closed by run_pipeline)."""
        if self._pool is None:
            from opsforge.connectors.pool import ConnectionPool

            self._pool = ConnectionPool(ConnectOptions())
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close_all()
        if self._pruner is not None:
            await asyncio.to_thread(self._pruner.join)

    @contextlib.asynccontextmanager
    async def resource_group(self, name: str, note: Callable[[str], None]) -> AsyncIterator[None]:
        """Hold ``resource_group`` ``name``: one job at a time in this run (an asyncio
        lock) and across concurrent runs of the project (``flock`` on
        ``.opsforge/locks/<name>.lock``, polled so that Ctrl-C still works)."""
        lock = self._locks.setdefault(name, asyncio.Lock())
        if lock.locked():
            note(f"waiting for resource_group {name}")
        async with lock:
            path = self.root / RUNTIME_DIR / "locks" / f"{safe_name(name)}.lock"
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                waited = False
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if not waited:
                            note(f"waiting for resource_group {name} (held by another run)")
                            waited = True
                        await asyncio.sleep(0.1)
                yield
            finally:
                os.close(fd)  # releases the flock

    def job_dir(self, kind: str, job: str) -> Path:
        """``<run_dir>/<kind>/<job>`` (kind: logs, artifacts, reports, tmp)."""
        return self.run_dir / kind / safe_name(job)

    def log_path(self, job: str) -> Path:
        return self.run_dir / "logs" / f"{safe_name(job)}.log"
