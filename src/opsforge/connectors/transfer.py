"""File transfer pieces shared by the connectors: sources, temp names, shell installs.

A put source is a local path or bytes. Over a shell (SSH exec channel, local
``sh``, either with sudo) a put is one command,
:func:`~opsforge.connectors.remote_shell.install_command`, whose stdin is the
file: the data lands in a private temp next to ``dest``, is size-checked,
chmod/chowned and renamed over ``dest``. On failure or cancellation the temp is
removed, ``dest`` is never half-written.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import posixpath
import secrets
import shlex
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from opsforge.connectors.execution import StartProcess, execute
from opsforge.connectors.remote_shell import install_command
from opsforge.errors import TransferError
from opsforge.types import Become

__all__ = [
    "PutSource",
    "atomic_local_write",
    "iter_source",
    "put_via_shell",
    "remove_remote",
    "source_size",
    "temp_path",
]

PutSource = str | Path | bytes
CHUNK = 1024 * 1024
CLEANUP_TIMEOUT = 15.0


def source_size(src: PutSource, *, host: str) -> int:
    """Size in bytes of a put source; a missing local file is a :class:`TransferError`."""
    if isinstance(src, bytes):
        return len(src)
    try:
        return os.stat(src).st_size
    except OSError as exc:
        raise TransferError(f"cannot read local file {src}: {exc.strerror}", host=host) from None


async def iter_source(src: PutSource, chunk: int = CHUNK) -> AsyncIterator[bytes]:
    """The source in chunks; file reads happen in a worker thread, one chunk at a time."""
    if isinstance(src, bytes):
        view = memoryview(src)
        for i in range(0, len(src), chunk):
            yield bytes(view[i : i + chunk])
        return
    handle = await asyncio.to_thread(open, src, "rb")
    try:
        while data := await asyncio.to_thread(handle.read, chunk):
            yield data
    finally:
        handle.close()


def temp_path(dest: str) -> str:
    """``dir/.name.opsforge-XXXXXXXX`` next to ``dest`` (same filesystem: rename is atomic)."""
    head, name = posixpath.split(dest)
    return posixpath.join(head, f".{name}.opsforge-{secrets.token_hex(4)}")


async def remove_remote(start: StartProcess, path: str, become: Become | None, host: str) -> None:
    """Best-effort ``rm -f`` of a temp file, shielded from cancellation."""

    async def remove() -> None:
        with contextlib.suppress(Exception):
            await execute(
                start,
                f"rm -f -- {shlex.quote(path)}",
                host=host,
                become=become,
                timeout=CLEANUP_TIMEOUT,
            )

    await asyncio.shield(asyncio.ensure_future(remove()))


async def put_via_shell(
    start: StartProcess,
    src: PutSource,
    dest: str,
    *,
    host: str,
    mode: int | None = None,
    owner: str | None = None,
    group: str | None = None,
    become: Become | None = None,
) -> None:
    """Put ``src`` at ``dest`` with one shell command, the data flowing through its stdin."""
    size = source_size(src, host=host)
    tmp = temp_path(dest)
    command = install_command(dest, size=size, tmp_name=tmp, mode=mode, owner=owner, group=group)
    try:
        result = await execute(start, command, host=host, stdin=iter_source(src), become=become)
    except BaseException:
        await remove_remote(start, tmp, become, host)
        raise
    if not result.ok:
        said = " ".join(result.stderr.split()) or f"exit code {result.exit_code}"
        raise TransferError(f"cannot write {dest}: {said}", host=host)


async def atomic_local_write(
    dest: str | Path,
    fill: Callable[[str], Awaitable[object]],
    *,
    host: str,
    what: str,
    mode: int | None = None,
    owner: str | None = None,
    group: str | None = None,
) -> None:
    """Write a local file atomically: ``fill(temp_path)`` next to ``dest``, then ``os.replace``.

    The file gets ``mode``, else the mode of the existing ``dest``, else 0666
    minus the umask; ``owner``/``group`` when given. On any failure or
    cancellation the temp is removed and ``dest`` is as it was.
    """
    dest = Path(dest)
    try:
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.opsforge-")
    except OSError as exc:
        raise TransferError(f"cannot write {dest}: {exc.strerror}", host=host) from None
    os.close(fd)
    try:
        await fill(tmp)
        if mode is None:
            try:
                mode = os.stat(dest).st_mode & 0o7777
            except FileNotFoundError:
                mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        if owner is not None:
            shutil.chown(tmp, user=owner)
        if group is not None:
            shutil.chown(tmp, group=group)
        os.replace(tmp, dest)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, (OSError, LookupError)):
            raise TransferError(f"cannot write {dest} ({what}): {exc}", host=host) from None
        raise


def _umask() -> int:
    """The process umask, read without changing it (Linux), else 022."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022
