"""The Fabric-style API: ``opsforge.connect("user@host:port").run("uptime")``.

:class:`AsyncConnection` is the real thing; :class:`Connection` is its sync twin,
running on a private event loop. A failed command raises
:class:`~opsforge.errors.CommandFailed` carrying the Result unless ``check=False``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from opsforge.connectors.base import Connector
from opsforge.connectors.pool import ConnectionPool
from opsforge.errors import CommandFailed, UsageError
from opsforge.loop_thread import run_sync
from opsforge.types import Become, ConnectOptions, HostKeyPolicy, HostSpec, Result, Secret

__all__ = ["AsyncConnection", "Connection", "connect", "parse_target"]

_TARGET = re.compile(
    r"^(?:(?P<user>[^@\s]+)@)?(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:@\s\[\]]+))(?::(?P<port>\d+))?$"
)


def parse_target(target: str) -> HostSpec:
    """``[user@]host[:port]`` (``[v6]:port`` for IPv6) or ``@local`` -> HostSpec."""
    if target in ("@local", "local", "localhost@local"):
        return HostSpec(name="local", connector="local")
    match = _TARGET.match(target.strip())
    if not match:
        raise UsageError(f"'{target}' is not a host: expected [user@]host[:port]")
    host = match["v6"] or match["host"]
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 0 < port < 65536:
        raise UsageError(f"'{target}': port {port} is out of range")
    return HostSpec(name=host, address=host, port=port, user=match["user"])


def _options(
    host_key_policy: str | HostKeyPolicy, known_hosts: str | None, connect_timeout: float
) -> ConnectOptions:
    return ConnectOptions(
        connect_timeout=connect_timeout,
        host_key_policy=HostKeyPolicy(host_key_policy),
        known_hosts=known_hosts,
    )


def _spec(
    target: str | HostSpec,
    key: str | Path | None,
    password: str | None,
    become_password: str | None,
) -> HostSpec:
    from dataclasses import replace

    spec = target if isinstance(target, HostSpec) else parse_target(target)
    if key is not None:
        spec = replace(spec, identity_files=(str(Path(key).expanduser()),))
    if password is not None:
        spec = replace(spec, password=Secret(password))
    if become_password is not None:
        spec = replace(spec, become=Become(password=Secret(become_password)))
    return spec


def _echo(stream: Any) -> Any:
    def write(text: str) -> None:
        stream.write(text)
        stream.flush()

    return write


class AsyncConnection:
    """One host, one SSH (or local) connection, reused by every call."""

    def __init__(self, spec: HostSpec, options: ConnectOptions | None = None) -> None:
        self.spec = spec
        self._pool = ConnectionPool(options or ConnectOptions())

    @property
    def host(self) -> str:
        return self.spec.name

    async def _conn(self) -> Connector:
        return await self._pool.get(self.spec)

    async def run(
        self,
        command: str,
        *,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        stdin: bytes | str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - kills the remote process group
        echo: bool = False,
        become: Become | None = None,
    ) -> Result:
        """Run ``command``; raise CommandFailed on a non-zero exit unless ``check=False``."""
        conn = await self._conn()
        result = await conn.run(
            command,
            env=env,
            cwd=cwd,
            stdin=stdin,
            timeout=timeout,
            become=become,
            on_stdout=_echo(sys.stdout) if echo else None,
            on_stderr=_echo(sys.stderr) if echo else None,
        )
        if check and not result.ok:
            raise CommandFailed(
                f"command exited {result.exit_code}: {command}", result, host=self.host
            )
        return result

    async def sudo(
        self, command: str, *, user: str = "root", password: str | None = None, **kwargs: Any
    ) -> Result:
        """``run`` as ``user`` through sudo (password: argument, else the host's become)."""
        secret = Secret(password) if password is not None else None
        if secret is None and self.spec.become is not None:
            secret = self.spec.become.password
        return await self.run(command, become=Become(user=user, password=secret), **kwargs)

    async def put(
        self,
        src: str | Path | bytes,
        dest: str,
        *,
        mode: int | None = None,
        owner: str | None = None,
        group: str | None = None,
        become: Become | None = None,
    ) -> None:
        """Upload a local path or bytes to ``dest`` atomically."""
        local = Path(src) if isinstance(src, str) else src
        conn = await self._conn()
        await conn.put(local, dest, mode=mode, owner=owner, group=group, become=become)

    async def get(self, src: str, dest: str | Path | None = None) -> bytes | None:
        """Download ``src``: to ``dest`` (atomically) or as bytes."""
        conn = await self._conn()
        return await conn.get(src, dest)

    async def close(self) -> None:
        await self._pool.close_all()

    async def __aenter__(self) -> AsyncConnection:
        await self._conn()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class Connection:
    """The sync twin of :class:`AsyncConnection` (Fabric's ``Connection``)."""

    def __init__(self, spec: HostSpec, options: ConnectOptions | None = None) -> None:
        self.aio = AsyncConnection(spec, options)

    @property
    def host(self) -> str:
        return self.aio.host

    def open(self) -> Connection:
        run_sync(self.aio._conn())
        return self

    def run(self, command: str, **kwargs: Any) -> Result:
        return run_sync(self.aio.run(command, **kwargs))

    def sudo(self, command: str, **kwargs: Any) -> Result:
        return run_sync(self.aio.sudo(command, **kwargs))

    def put(self, src: str | Path | bytes, dest: str, **kwargs: Any) -> None:
        run_sync(self.aio.put(src, dest, **kwargs))

    def get(self, src: str, dest: str | Path | None = None) -> bytes | None:
        return run_sync(self.aio.get(src, dest))

    def close(self) -> None:
        run_sync(self.aio.close())

    def __enter__(self) -> Connection:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(
    target: str | HostSpec,
    *,
    key: str | Path | None = None,
    password: str | None = None,
    become_password: str | None = None,
    host_key_policy: str | HostKeyPolicy = HostKeyPolicy.STRICT,
    known_hosts: str | None = None,
    connect_timeout: float = 10.0,
) -> Connection:
    """A sync connection to ``[user@]host[:port]`` (opened on first use).

    ``opsforge.connect(...).aio`` is the async twin.
    """
    spec = _spec(target, key, password, become_password)
    return Connection(spec, _options(host_key_policy, known_hosts, connect_timeout))
