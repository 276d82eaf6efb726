"""Running a local argv directly: one fork+exec, no shell wrapper.

:func:`~opsforge.connectors.execution.execute` runs a command string through a
``/bin/sh`` wrapper that reports its process group and can become another user:
what a remote host needs. A local program whose argv is known (a pipeline job's
``bash -e step.sh``) needs none of that: :func:`spawn` starts it in its own
session (its pid is the process group), streams stdout/stderr to the callbacks
through a subprocess protocol (no reader tasks), and on a timeout or
cancellation kills the whole group: TERM, a grace period, KILL.

A program or working directory that does not exist is not an exception: like a
shell, the result is exit 127 (126 for the directory) with the reason on stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Mapping, Sequence

from opsforge.connectors.base import OutputCallback
from opsforge.connectors.execution import Outputs, OutputSink
from opsforge.errors import CommandTimeout
from opsforge.types import Result

__all__ = ["KILL_GRACE", "kill_group", "spawn"]

KILL_GRACE = 2.0  # seconds between TERM and KILL
_POLL = 0.05
NOT_FOUND_EXIT_CODE = 127
NO_DIRECTORY_EXIT_CODE = 126


class _Protocol(asyncio.SubprocessProtocol):
    """Feeds the sinks; done once the process has exited and both pipes are closed."""

    def __init__(self, out: OutputSink, err: OutputSink, done: asyncio.Future[None]) -> None:
        self.out, self.err, self.done = out, err, done
        self.open_pipes = 2
        self.exited = False

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        (self.out if fd == 1 else self.err).feed(data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd in (1, 2):
            self.open_pipes -= 1
            self._check()

    def process_exited(self) -> None:
        self.exited = True
        self._check()

    def _check(self) -> None:
        if self.exited and self.open_pipes <= 0 and not self.done.done():
            self.done.set_result(None)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def kill_group(pgid: int, grace: float = KILL_GRACE) -> None:
    """TERM process group ``pgid``, wait up to ``grace`` seconds for it to go, then KILL."""
    if pgid <= 1:
        raise ValueError(f"refusing to kill process group {pgid}")
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    # a process group's end has no event to wait on (its members are not our children)
    while _group_alive(pgid) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(_POLL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


async def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: str,
    timeout: float | None = None,  # noqa: ASYNC109 (the same interface as execute)
    on_stdout: OutputCallback | None = None,
    on_stderr: OutputCallback | None = None,
    capture: bool = False,
    host: str = "local",
) -> Result:
    """Run ``argv`` in ``cwd`` with exactly ``env``; see the module docstring."""
    command = " ".join(argv)
    outputs = Outputs(command, host, on_stdout, on_stderr, capture)
    out, err, result = outputs.out, outputs.err, outputs.result

    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    try:
        transport, _ = await loop.subprocess_exec(
            lambda: _Protocol(out, err, done),
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            cwd=cwd,
            env=dict(env),
        )
    except OSError as exc:
        missing_dir = exc.filename == cwd  # the chdir failed, not the exec
        what = f"cannot change to directory {cwd}" if missing_dir else f"cannot run {argv[0]}"
        err.feed(f"opsforge: {what}: {exc.strerror}\n".encode(), final=True)
        return result(NO_DIRECTORY_EXIT_CODE if missing_dir else NOT_FOUND_EXIT_CODE)
    pid = transport.get_pid()
    try:
        async with asyncio.timeout(timeout) as scope:
            await asyncio.shield(done)
    except TimeoutError:
        if not scope.expired():
            raise
        await _stop(pid, done)
        transport.close()
        raise CommandTimeout(
            f"timed out after {timeout:g}s: {command}", result(None, True)
        ) from None
    except BaseException:  # cancelled (Ctrl-C) or a callback raised: leave nothing running
        await asyncio.shield(_stop(pid, done))
        transport.close()
        raise
    code = transport.get_returncode()
    transport.close()
    out.feed(b"", final=True)
    err.feed(b"", final=True)
    return result(code)


async def _stop(pid: int, done: asyncio.Future[None]) -> None:
    """Kill the job's process group and collect the tail of its output, briefly."""
    await kill_group(pid)
    with contextlib.suppress(TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(asyncio.shield(done), KILL_GRACE)
