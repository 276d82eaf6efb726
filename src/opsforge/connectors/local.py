"""``LocalConnector``: the ``@local`` host, through asyncio subprocesses.

Commands run as ``/bin/sh -c WRAPPED`` in a new session (so the child's pid is
the process group to kill), through the same
:func:`~opsforge.connectors.execution.execute` as SSH: same markers, sudo
dialogue, streaming and timeout handling. Puts and gets are local temp file +
``os.replace``; a put with become is the same sudo'd install command SSH uses.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import BinaryIO

from opsforge.connectors.base import Connector, OutputCallback
from opsforge.connectors.execution import Process, StartProcess, execute
from opsforge.connectors.transfer import (
    atomic_local_write,
    iter_source,
    put_via_shell,
    source_size,
)
from opsforge.errors import TransferError
from opsforge.types import Become, Result

__all__ = ["LocalConnector", "local_starter"]

_COPY_CHUNK = 1024 * 1024


class _Child:
    """A local subprocess as a :class:`~opsforge.connectors.execution.Process`."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc
        assert proc.stdin is not None
        assert proc.stdout is not None
        assert proc.stderr is not None
        self._stdin, self._stdout, self._stderr = proc.stdin, proc.stdout, proc.stderr

    async def read_stdout(self, n: int) -> bytes:
        return await self._stdout.read(n)

    async def read_stderr(self, n: int) -> bytes:
        return await self._stderr.read(n)

    async def write_stdin(self, data: bytes) -> None:
        self._stdin.write(data)
        await self._stdin.drain()

    def close_stdin(self) -> None:
        with contextlib.suppress(OSError):
            self._stdin.close()

    async def wait(self) -> int | None:
        return await self._proc.wait()

    def abort(self) -> None:
        self.close_stdin()
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()


async def _start(command: str, env: Mapping[str, str] | None = None) -> Process:
    proc = await asyncio.create_subprocess_exec(
        "/bin/sh",
        "-c",
        command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
        env=env,
    )
    return _Child(proc)


def local_starter(env: Mapping[str, str]) -> StartProcess:
    """A :data:`StartProcess` for :func:`execute` whose processes get exactly ``env``
    as their environment (values never appear on a command line, unlike ``run(env=)``)."""

    async def start(command: str) -> Process:
        return await _start(command, env)

    return start


class LocalConnector(Connector):
    """Runs commands and copies files on this machine."""

    name = "local"

    async def connect(self) -> None:
        """Nothing to open."""

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
        return await execute(
            _start,
            command,
            host=self.host.name,
            env=env,
            cwd=cwd,
            stdin=stdin,
            timeout=timeout,
            become=become,
            on_stdout=on_stdout,
            on_stderr=on_stderr,
            capture=capture,
        )

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
        host = self.host.name
        if become is not None:
            await put_via_shell(
                _start, src, dest, host=host, mode=mode, owner=owner, group=group, become=become
            )
            return
        source_size(src, host=host)
        await atomic_local_write(
            dest,
            lambda tmp: _write_chunks(tmp, iter_source(src, _COPY_CHUNK)),
            host=host,
            what="put",
            mode=mode,
            owner=owner,
            group=group,
        )

    async def get(self, src: str, dest: str | Path | None = None) -> bytes | None:
        host = self.host.name
        try:
            handle = await asyncio.to_thread(open, src, "rb")
        except OSError as exc:
            raise TransferError(f"cannot read {src}: {exc.strerror}", host=host) from None
        with handle:
            if dest is None:
                return await asyncio.to_thread(handle.read)
            await atomic_local_write(
                dest, lambda tmp: _write_chunks(tmp, _read_chunks(handle)), host=host, what=src
            )
        return None

    async def close(self) -> None:
        """Nothing to close."""


async def _read_chunks(handle: BinaryIO) -> AsyncIterator[bytes]:
    while chunk := await asyncio.to_thread(handle.read, _COPY_CHUNK):
        yield chunk


async def _write_chunks(path: str, chunks: AsyncIterator[bytes]) -> None:
    """Write chunks to ``path``, each write in a worker thread (cancellable in between)."""
    with open(path, "wb") as out:  # noqa: ASYNC230 (opening an existing empty temp)
        async for chunk in chunks:
            await asyncio.to_thread(out.write, chunk)
