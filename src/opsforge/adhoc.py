"""Ad-hoc fan-out: one command, one upload or one download on many hosts.

This is the domain behind ``opsforge exec|copy|fetch`` and the :class:`~opsforge.Group`
API. It turns a host selection into an engine :class:`~opsforge.engine.Plan` of one
step per host; the engine runs it, the caller subscribes to its events.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from opsforge.connectors.base import Connector
from opsforge.connectors.pool import ConnectionPool
from opsforge.engine import (
    Event,
    Executor,
    HostOutcome,
    Plan,
    RunSummary,
    Step,
    StepContext,
    run_host_plan,
)
from opsforge.types import Become, HostSpec, Result

__all__ = [
    "CommandTask",
    "CopyTask",
    "FanOut",
    "FetchTask",
    "run_fanout",
]

#: Extra seconds the engine waits past a command's own timeout before it cancels
#: the step: the connector's own timeout fires first and kills the remote processes.
TIMEOUT_GRACE = 10.0


@dataclass(frozen=True, slots=True)
class CommandTask:
    """Run one shell command on every host."""

    command: str
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    stdin: bytes | None = None
    timeout: float | None = None
    stream: bool = True  # emit output events as it arrives (and do not capture it)

    def describe(self) -> str:
        return self.command

    async def __call__(self, conn: Connector, become: Become | None, ctx: StepContext) -> Result:
        def out(text: str) -> None:
            ctx.emit_output("stdout", text)

        def err(text: str) -> None:
            ctx.emit_output("stderr", text)

        return await conn.run(
            self.command,
            env=self.env or None,
            cwd=self.cwd,
            stdin=self.stdin,
            timeout=self.timeout,
            become=become,
            on_stdout=out if self.stream else None,
            on_stderr=err if self.stream else None,
            capture=not self.stream,
        )


@dataclass(frozen=True, slots=True)
class CopyTask:
    """Upload a local file (or bytes) to ``dest`` on every host, atomically."""

    src: Path | bytes
    dest: str
    mode: int | None = None
    owner: str | None = None
    group: str | None = None
    timeout: float | None = None

    def describe(self) -> str:
        name = "<bytes>" if isinstance(self.src, bytes) else str(self.src)
        return f"copy {name} -> {self.dest}"

    async def __call__(self, conn: Connector, become: Become | None, ctx: StepContext) -> Result:
        started = _now()
        await conn.put(
            self.src, self.dest, mode=self.mode, owner=self.owner, group=self.group, become=become
        )
        return Result(self.describe(), 0, duration=_now() - started, host=conn.host.name)


@dataclass(frozen=True, slots=True)
class FetchTask:
    """Download ``src`` from every host into ``dest_dir/<host>/<src path>`` (Ansible's fetch)."""

    src: str
    dest_dir: Path
    flat: bool = False  # dest_dir/<host>-<basename> instead of a tree per host
    timeout: float | None = None

    def local_path(self, host: str) -> Path:
        remote = PurePosixPath(self.src)
        if self.flat:
            return self.dest_dir / f"{host}-{remote.name}"
        return self.dest_dir / host / str(remote).lstrip("/")

    def describe(self) -> str:
        return f"fetch {self.src} -> {self.dest_dir}"

    async def __call__(self, conn: Connector, become: Become | None, ctx: StepContext) -> Result:
        started = _now()
        target = self.local_path(conn.host.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        await conn.get(self.src, target)
        return Result(
            self.describe(), 0, stdout=str(target), duration=_now() - started, host=conn.host.name
        )


Task = CommandTask | CopyTask | FetchTask


@dataclass(frozen=True, slots=True)
class FanOut:
    """The settings of one fan-out run."""

    forks: int = 50
    serial: Sequence[int | str] | None = None
    fail_fast: bool = False
    retries: int = 0
    retry_delay: float = 1.0
    become: Become | None = None  # overrides the inventory's become for every host
    become_from_inventory: bool = True


def _now() -> float:
    import time

    return time.monotonic()


def build_plan(
    specs: Sequence[HostSpec], task: Task, pool: ConnectionPool, settings: FanOut
) -> Plan:
    """One step per host; the action connects through ``pool`` (once per host)."""

    def make_action(spec: HostSpec) -> Callable[[StepContext], Any]:
        become = settings.become
        if become is None and settings.become_from_inventory:
            become = spec.become

        async def action(ctx: StepContext) -> Result:
            conn = await pool.get(spec)
            return await task(conn, become, ctx)

        return action

    step_timeout = None if task.timeout is None else task.timeout + TIMEOUT_GRACE
    steps = [
        Step(
            id=spec.name,
            host=spec.name,
            action=make_action(spec),
            timeout=step_timeout,
            retries=settings.retries,
            retry_delay=settings.retry_delay,
            description=task.describe(),
        )
        for spec in specs
    ]
    return Plan(steps=tuple(steps))


async def run_fanout(
    specs: Sequence[HostSpec],
    task: Task,
    pool: ConnectionPool,
    settings: FanOut,
    *,
    subscribers: Sequence[Callable[[Event], None]] = (),
    executor_hook: Callable[[Executor], None] | None = None,
) -> tuple[RunSummary, dict[str, HostOutcome]]:
    """Run ``task`` on every host; return the summary and each host's outcome.

    Connections stay open in ``pool`` for the caller's next run; the caller closes it.
    """
    return await run_host_plan(
        build_plan(specs, task, pool, settings),
        forks=settings.forks,
        serial=settings.serial,
        fail_fast=settings.fail_fast,
        subscribers=subscribers,
        executor_hook=executor_hook,
    )


def with_overrides(spec: HostSpec, **changes: Any) -> HostSpec:
    """A copy of ``spec`` with the non-None ``changes`` applied (CLI -u/--key/--port)."""
    given = {k: v for k, v in changes.items() if v is not None}
    return dataclasses.replace(spec, **given) if given else spec
