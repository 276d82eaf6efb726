"""``SSHConnector``: one asyncssh connection per host, many channels on it.

Commands run on exec channels (no PTY) through
:func:`~opsforge.connectors.execution.execute`; several may run at once.
Puts go over SFTP to a temp next to ``dest`` (created exclusively), which is
chmodded and renamed over ``dest`` with SFTP requests alone — measured faster
than an exec channel running ``cat > tmp`` even for tiny files (about 2.5 ms
against 7 ms on loopback) — or finished by one shell command when an owner or
group is asked. A put with become streams the file into a sudo'd install
command's stdin instead. Gets use SFTP. The SFTP session is opened once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import cast

import asyncssh

from opsforge.connectors.base import Connector, OutputCallback
from opsforge.connectors.execution import Process, execute
from opsforge.connectors.remote_shell import finish_command
from opsforge.connectors.ssh_connect import SSHLink, open_link
from opsforge.connectors.transfer import (
    PutSource,
    atomic_local_write,
    iter_source,
    put_via_shell,
    source_size,
    temp_path,
)
from opsforge.errors import ConnectError, TransferError, UnreachableError
from opsforge.types import Become, Result

__all__ = ["SSHConnector"]

_SFTP_WRITE_CHUNK = 8 * 1024 * 1024


class _Channel:
    """An exec channel as a :class:`~opsforge.connectors.execution.Process`."""

    def __init__(self, proc: asyncssh.SSHClientProcess[bytes]) -> None:
        self._proc = proc

    async def read_stdout(self, n: int) -> bytes:
        return await self._proc.stdout.read(n)

    async def read_stderr(self, n: int) -> bytes:
        return await self._proc.stderr.read(n)

    async def write_stdin(self, data: bytes) -> None:
        try:
            self._proc.stdin.write(data)
            await self._proc.stdin.drain()
        except (asyncssh.Error, OSError) as exc:
            raise BrokenPipeError(str(exc)) from None

    def close_stdin(self) -> None:
        with contextlib.suppress(asyncssh.Error, OSError):
            self._proc.stdin.write_eof()

    async def wait(self) -> int | None:
        await self._proc.wait_closed()
        if self._proc.exit_status is None and self._proc.exit_signal is None:
            raise ConnectionResetError("the command had not finished")
        return self._proc.returncode

    def abort(self) -> None:
        self._proc.close()


class SSHConnector(Connector):
    """Runs commands and moves files over SSH (asyncssh)."""

    name = "ssh"

    _link: SSHLink | None = None
    _sftp: asyncssh.SFTPClient | None = None

    async def connect(self) -> None:
        if self._link is None:
            self._link = await open_link(self.host, self.options)
            self._sftp_lock = asyncio.Lock()

    def _conn(self) -> asyncssh.SSHClientConnection:
        if self._link is None:
            raise ConnectError("not connected (call connect() first)", host=self.host.name)
        return self._link.conn

    async def _start(self, command: str) -> Process:
        conn = self._conn()
        try:
            proc = await conn.create_process(command, encoding=None)
        except asyncssh.ChannelOpenError as exc:
            if conn.is_closed():
                raise self._lost(exc) from None
            why = f"cannot open a session: {exc.reason}"
            raise ConnectError(why, host=self.host.name) from None
        except (asyncssh.Error, OSError) as exc:
            raise self._lost(exc) from None
        return _Channel(proc)

    def _lost(self, exc: BaseException) -> UnreachableError:
        return UnreachableError(f"connection lost: {exc}", host=self.host.name)

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
        try:
            return await execute(
                self._start,
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
        except (asyncssh.Error, OSError) as exc:
            raise self._lost(exc) from None

    async def _sftp_client(self) -> asyncssh.SFTPClient:
        conn = self._conn()
        async with self._sftp_lock:
            if self._sftp is None:
                try:
                    self._sftp = await conn.start_sftp_client()
                except (asyncssh.Error, OSError) as exc:
                    if conn.is_closed():
                        raise self._lost(exc) from None
                    raise TransferError(f"cannot start SFTP: {exc}", host=self.host.name) from None
            return self._sftp

    def _transfer_error(self, exc: BaseException, path: str, verb: str) -> TransferError:
        if isinstance(exc, asyncssh.SFTPNoSuchFile):
            why = "no such file or directory"
        elif isinstance(exc, asyncssh.SFTPPermissionDenied):
            why = "permission denied"
        elif isinstance(exc, asyncssh.SFTPError):
            why = exc.reason
        else:
            why = str(exc)
        return TransferError(f"cannot {verb} {path}: {why}", host=self.host.name)

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
        size = source_size(src, host=self.host.name)
        try:
            if become is not None:
                await put_via_shell(
                    self._start,
                    src,
                    dest,
                    host=self.host.name,
                    mode=mode,
                    owner=owner,
                    group=group,
                    become=become,
                )
            else:
                await self._put_sftp(src, dest, size, mode=mode, owner=owner, group=group)
        except (asyncssh.Error, OSError) as exc:
            raise self._transfer_error(exc, dest, "write") from None

    async def _put_sftp(
        self,
        src: PutSource,
        dest: str,
        size: int,
        *,
        mode: int | None,
        owner: str | None,
        group: str | None,
    ) -> None:
        """Upload to a temp next to ``dest``, chmod it, rename it (no shell unless chown)."""
        sftp = await self._sftp_client()
        tmp = temp_path(dest)
        try:
            final = mode if mode is not None else await _mode_of(sftp, dest)
            # a brand-new file with no mode asked: created 0666 minus the server's umask
            perms = 0o600 if final is not None else 0o666
            flags = asyncssh.FXF_WRITE | asyncssh.FXF_CREAT | asyncssh.FXF_EXCL
            attrs = asyncssh.SFTPAttrs(permissions=perms)
            async with sftp.open(tmp, flags, attrs, encoding=None) as handle:
                async for chunk in iter_source(src, _SFTP_WRITE_CHUNK):
                    await handle.write(chunk)
                if final is not None:
                    await handle.chmod(final)
            if owner or group:
                await self._finish_by_shell(tmp, dest, size, final, owner, group)
            else:
                try:
                    await sftp.posix_rename(tmp, dest)
                except asyncssh.SFTPOpUnsupported:
                    await self._finish_by_shell(tmp, dest, size, final, None, None)
        except BaseException as exc:
            await asyncio.shield(asyncio.ensure_future(_remove_quietly(sftp, tmp)))
            if isinstance(exc, asyncssh.SFTPError):
                raise self._transfer_error(exc, dest, "write") from None
            raise

    async def _finish_by_shell(
        self,
        tmp: str,
        dest: str,
        size: int,
        mode: int | None,
        owner: str | None,
        group: str | None,
    ) -> None:
        finish = finish_command(dest, tmp_name=tmp, size=size, mode=mode, owner=owner, group=group)
        result = await execute(self._start, finish, host=self.host.name)
        if not result.ok:
            said = " ".join(result.stderr.split()) or f"exit code {result.exit_code}"
            raise TransferError(f"cannot write {dest}: {said}", host=self.host.name)

    async def get(self, src: str, dest: str | Path | None = None) -> bytes | None:
        sftp = await self._sftp_client()
        try:
            if dest is None:
                async with sftp.open(src, "rb", encoding=None) as handle:
                    return cast(bytes, await handle.read())

            async def fill(tmp: str) -> None:
                await sftp.get(src, tmp)

            await atomic_local_write(dest, fill, host=self.host.name, what=f"from {src}")
            return None
        except (asyncssh.Error, ConnectionError) as exc:
            raise self._transfer_error(exc, src, "read") from None

    async def close(self) -> None:
        link, self._link = self._link, None
        sftp, self._sftp = self._sftp, None
        if sftp is not None:
            sftp.exit()
        if link is not None:
            await link.close()


async def _mode_of(sftp: asyncssh.SFTPClient, path: str) -> int | None:
    """Permission bits of an existing remote file; None when there is none."""
    try:
        attrs = await sftp.stat(path)
    except asyncssh.SFTPNoSuchFile:
        return None
    return None if attrs.permissions is None else attrs.permissions & 0o7777


async def _remove_quietly(sftp: asyncssh.SFTPClient, path: str) -> None:
    with contextlib.suppress(asyncssh.Error, OSError):
        await sftp.remove(path)
