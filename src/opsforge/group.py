"""Fan-out over many hosts: ``Group.from_inventory("inv.yml", "web").run("uptime")``.

A :class:`GroupResult` maps each host to its :class:`~opsforge.types.Result`
(or the error that kept it from one). With ``check=True`` (the default) a run
where any host failed raises :class:`~opsforge.errors.GroupError` carrying it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from opsforge.adhoc import CommandTask, CopyTask, FanOut, FetchTask, Task, run_fanout
from opsforge.connection import parse_target
from opsforge.connectors.pool import ConnectionPool
from opsforge.engine import HostOutcome
from opsforge.errors import GroupError
from opsforge.inventory import load_inventory
from opsforge.loop_thread import run_sync
from opsforge.types import Become, ConnectOptions, HostSpec, Result

__all__ = ["AsyncGroup", "Group", "GroupResult"]


class GroupResult(dict[str, HostOutcome]):
    """host name -> HostOutcome (status, Result, message), in selection order."""

    @property
    def ok(self) -> bool:
        return all(outcome.ok for outcome in self.values())

    @property
    def succeeded(self) -> dict[str, Result]:
        return {h: o.result for h, o in self.items() if o.ok and o.result is not None}

    @property
    def failed(self) -> dict[str, HostOutcome]:
        return {h: o for h, o in self.items() if not o.ok}

    def results(self) -> dict[str, Result | None]:
        return {h: o.result for h, o in self.items()}


def _specs(hosts: Iterable[str | HostSpec]) -> list[HostSpec]:
    return [h if isinstance(h, HostSpec) else parse_target(h) for h in hosts]


class AsyncGroup:
    """Async fan-out over a fixed list of hosts; one connection per host, reused."""

    def __init__(
        self,
        hosts: Iterable[str | HostSpec],
        *,
        options: ConnectOptions | None = None,
        forks: int = 50,
    ) -> None:
        self.specs = _specs(hosts)
        self.settings = FanOut(forks=forks)
        self._pool = ConnectionPool(options or ConnectOptions())

    async def _fan(self, task: Task, check: bool, become: Become | None = None) -> GroupResult:
        settings = (
            self.settings if become is None else FanOut(forks=self.settings.forks, become=become)
        )
        _, outcomes = await run_fanout(self.specs, task, self._pool, settings)
        result = GroupResult((s.name, outcomes[s.name]) for s in self.specs)
        if check and not result.ok:
            bad = ", ".join(f"{h} ({o.status.value})" for h, o in result.failed.items())
            raise GroupError(f"failed on {len(result.failed)} host(s): {bad}", result)
        return result

    async def run(
        self,
        command: str,
        *,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - kills the remote process group
        become: Become | None = None,
    ) -> GroupResult:
        task = CommandTask(command, env=dict(env or {}), cwd=cwd, timeout=timeout, stream=False)
        return await self._fan(task, check, become)

    async def sudo(
        self, command: str, *, user: str = "root", check: bool = True, **kwargs: Any
    ) -> GroupResult:
        return await self.run(command, check=check, become=Become(user=user), **kwargs)

    async def put(
        self,
        src: str | Path | bytes,
        dest: str,
        *,
        mode: int | None = None,
        check: bool = True,
    ) -> GroupResult:
        local = Path(src) if isinstance(src, str) else src
        return await self._fan(CopyTask(src=local, dest=dest, mode=mode), check)

    async def get(self, src: str, dest_dir: str | Path, *, check: bool = True) -> GroupResult:
        return await self._fan(FetchTask(src=src, dest_dir=Path(dest_dir)), check)

    async def close(self) -> None:
        await self._pool.close_all()


class Group:
    """Sync fan-out (Fabric's ``ThreadingGroup``, but one asyncio loop)."""

    def __init__(self, hosts: Iterable[str | HostSpec], **kwargs: Any) -> None:
        self.aio = AsyncGroup(hosts, **kwargs)

    @classmethod
    def from_inventory(
        cls,
        sources: str | Sequence[str],
        pattern: str = "all",
        *,
        limit: str | None = None,
        **kwargs: Any,
    ) -> Group:
        """The hosts of an inventory selection (Ansible pattern syntax)."""
        inv = load_inventory([sources] if isinstance(sources, str) else list(sources))
        return cls([h.spec() for h in inv.select(pattern, limit)], **kwargs)

    @property
    def hosts(self) -> list[str]:
        return [s.name for s in self.aio.specs]

    def run(self, command: str, **kwargs: Any) -> GroupResult:
        return run_sync(self.aio.run(command, **kwargs))

    def sudo(self, command: str, **kwargs: Any) -> GroupResult:
        return run_sync(self.aio.sudo(command, **kwargs))

    def put(self, src: str | Path | bytes, dest: str, **kwargs: Any) -> GroupResult:
        return run_sync(self.aio.put(src, dest, **kwargs))

    def get(self, src: str, dest_dir: str | Path, **kwargs: Any) -> GroupResult:
        return run_sync(self.aio.get(src, dest_dir, **kwargs))

    def close(self) -> None:
        run_sync(self.aio.close())

    def __enter__(self) -> Group:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
