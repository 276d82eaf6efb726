"""The connector interface: connect, run, put, get, close — and nothing else.

Sudo, env, cwd and the remote process-group bookkeeping are built once, above
the transports, in :mod:`opsforge.connectors.remote_shell`; retries live in the
engine. A connector only moves bytes and runs a shell command string.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import ClassVar

from opsforge.types import Become, ConnectOptions, HostSpec, Result

__all__ = ["Connector", "OutputCallback"]

#: Called with each chunk of decoded output as it arrives (stream name is implicit).
OutputCallback = Callable[[str], None]


class Connector(abc.ABC):
    """One connection to one host, reused for every command of a run.

    Implementations: ``local`` (asyncio subprocess) and ``ssh`` (asyncssh).
    Registered under the entry-point group ``opsforge.connectors``.
    """

    name: ClassVar[str]

    def __init__(self, host: HostSpec, options: ConnectOptions | None = None) -> None:
        self.host = host
        self.options = options or ConnectOptions()

    @abc.abstractmethod
    async def connect(self) -> None:
        """Open the connection. Raises a :class:`~opsforge.errors.ConnectError` subclass."""

    @abc.abstractmethod
    async def run(
        self,
        command: str,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        stdin: bytes | str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the interface takes a timeout)
        become: Become | None = None,
        on_stdout: OutputCallback | None = None,
        on_stderr: OutputCallback | None = None,
        capture: bool = True,
    ) -> Result:
        """Run a shell command; return its Result whatever the exit code.

        On ``timeout`` the remote process group is killed and
        :class:`~opsforge.errors.CommandTimeout` is raised carrying the partial
        Result. On cancellation (Ctrl-C) the remote process group is killed too.
        """

    @abc.abstractmethod
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
        """Write a local file (path) or bytes to ``dest``, atomically (temp + rename)."""

    @abc.abstractmethod
    async def get(self, src: str, dest: str | Path | None = None) -> bytes | None:
        """Read remote ``src``; write it atomically to local ``dest`` or return its bytes."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the connection. Safe to call twice."""

    async def __aenter__(self) -> Connector:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
