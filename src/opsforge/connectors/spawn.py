"""Running a local argv directly: one fork+exec, no shell wrapper.

:func:`~opsforge.connectors.execution.execute` runs a command string through a
``/bin/sh`` wrapper that reports its process group and can become another user:
what a remote host needs. A local program whose argv is known (a pipeline job's
``bash -e step.sh``) needs none of that: :func:`spawn` starts it in its own
session (its pid is the process group), streams stdout/stderr to the callbacks
through pipe protocols (no reader tasks), and on a timeout or cancellation kills
the whole group: TERM, a grace period, KILL.

Its end is seen through a pidfd on the event loop (Linux 5.3+): no asyncio child
watcher, which on Python 3.11 starts a thread per child and blocks until that
thread runs. Elsewhere asyncio's own subprocess support does the same job.

A program or working directory that does not exist is not an exception: like a
shell, the result is exit 127 (126 for the directory) with the reason on stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence

from opsforge.connectors.base import OutputCallback
from opsforge.connectors.execution import Outputs, OutputSink
from opsforge.errors import CommandTimeout
from opsforge.types import Result

__all__ = ["KILL_GRACE", "kill_group", "spawn"]

KILL_GRACE = 2.0  # seconds between TERM and KILL
_POLL = 0.05
NOT_FOUND_EXIT_CODE = 127
NO_DIRECTORY_EXIT_CODE = 126


class _Ends:
    """``done`` resolves once the process has exited and both its output pipes are closed
    (the last output is read): what both ways of starting a program wait for."""

    def __init__(self, done: asyncio.Future[None]) -> None:
        self.done = done
        self.open_pipes = 2
        self.exited = False

    def pipe_closed(self) -> None:
        self.open_pipes -= 1
        self._check()

    def process_exited(self) -> None:
        self.exited = True
        self._check()

    def _check(self) -> None:
        if self.exited and self.open_pipes <= 0 and not self.done.done():
            self.done.set_result(None)


class _Protocol(asyncio.SubprocessProtocol):
    """asyncio's subprocess support: feeds the sinks, reports the ends."""

    def __init__(self, out: OutputSink, err: OutputSink, ends: _Ends) -> None:
        self.out, self.err, self.ends = out, err, ends

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        (self.out if fd == 1 else self.err).feed(data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd in (1, 2):
            self.ends.pipe_closed()

    def process_exited(self) -> None:
        self.ends.process_exited()


class _Pipe(asyncio.Protocol):
    """One output pipe of a :class:`_PidfdChild`."""

    def __init__(self, sink: OutputSink, closed: Callable[[], None]) -> None:
        self.sink, self.closed = sink, closed

    def data_received(self, data: bytes) -> None:
        self.sink.feed(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed()


class _Child:
    """A started program: ``done`` resolves once it has exited and both pipes are closed."""

    pid: int
    done: asyncio.Future[None]

    def returncode(self) -> int | None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _PidfdChild(_Child):
    """Started with :class:`subprocess.Popen`; its exit is seen through a pidfd on the
    event loop. No child watcher, so no thread per process (asyncio's default on 3.11
    starts one per child and waits for it to start: a visible cost at 50 jobs)."""

    def __init__(self, proc: subprocess.Popen[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self.proc, self.loop, self.pid = proc, loop, proc.pid
        self.done = loop.create_future()
        self.ends = _Ends(self.done)
        self.transports: list[asyncio.BaseTransport] = []
        self.pidfd = os.pidfd_open(proc.pid)
        loop.add_reader(self.pidfd, self._exit)

    async def connect(self, out: OutputSink, err: OutputSink) -> None:
        for pipe, sink in ((self.proc.stdout, out), (self.proc.stderr, err)):
            transport, _ = await self.loop.connect_read_pipe(self._pipe(sink), pipe)
            self.transports.append(transport)

    def _pipe(self, sink: OutputSink) -> Callable[[], _Pipe]:
        return lambda: _Pipe(sink, self.ends.pipe_closed)

    def _exit(self) -> None:
        self.loop.remove_reader(self.pidfd)
        os.close(self.pidfd)
        self.pidfd = -1
        self.proc.wait()  # it has exited: reaps at once
        self.ends.process_exited()

    def returncode(self) -> int | None:
        return self.proc.returncode

    def close(self) -> None:
        for transport in self.transports:
            transport.close()
        if self.pidfd >= 0:
            self.loop.remove_reader(self.pidfd)
            os.close(self.pidfd)
            self.pidfd = -1


class _AsyncioChild(_Child):
    """Started through asyncio's subprocess support (where pidfds are missing)."""

    def __init__(self, transport: asyncio.SubprocessTransport, done: asyncio.Future[None]):
        self.transport, self.done, self.pid = transport, done, transport.get_pid()

    def returncode(self) -> int | None:
        return self.transport.get_returncode()

    def close(self) -> None:
        self.transport.close()


def _pidfd_usable() -> bool:
    if not hasattr(os, "pidfd_open"):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:  # kernel < 5.3, or a seccomp filter
        return False
    return True


_PIDFD = _pidfd_usable()


async def _start(
    argv: Sequence[str], env: Mapping[str, str], cwd: str, out: OutputSink, err: OutputSink
) -> _Child:
    loop = asyncio.get_running_loop()
    if _PIDFD:
        # what asyncio itself does to start a child (fork+exec returns at once), minus
        # its child watcher
        proc = subprocess.Popen(  # noqa: ASYNC220
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            cwd=cwd,
            env=dict(env),
        )
        try:
            child = _PidfdChild(proc, loop)
            await child.connect(out, err)
        except BaseException:  # never leave a started program unwatched
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        return child
    done: asyncio.Future[None] = loop.create_future()
    ends = _Ends(done)
    transport, _ = await loop.subprocess_exec(
        lambda: _Protocol(out, err, ends),
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
        cwd=cwd,
        env=dict(env),
    )
    return _AsyncioChild(transport, done)


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

    try:
        child = await _start(argv, env, cwd, out, err)
    except OSError as exc:
        missing_dir = exc.filename == cwd  # the chdir failed, not the exec
        what = f"cannot change to directory {cwd}" if missing_dir else f"cannot run {argv[0]}"
        err.feed(f"opsforge: {what}: {exc.strerror}\n".encode(), final=True)
        return result(NO_DIRECTORY_EXIT_CODE if missing_dir else NOT_FOUND_EXIT_CODE)
    try:
        async with asyncio.timeout(timeout) as scope:
            await asyncio.shield(child.done)
    except TimeoutError:
        if not scope.expired():
            raise
        await _stop(child.pid, child.done)
        child.close()
        raise CommandTimeout(
            f"timed out after {timeout:g}s: {command}", result(None, True)
        ) from None
    except BaseException:  # cancelled (Ctrl-C) or a callback raised: leave nothing running
        await asyncio.shield(_stop(child.pid, child.done))
        child.close()
        raise
    code = child.returncode()
    child.close()
    out.feed(b"", final=True)
    err.feed(b"", final=True)
    return result(code)


async def _stop(pid: int, done: asyncio.Future[None]) -> None:
    """Kill the job's process group and collect the tail of its output, briefly."""
    await kill_group(pid)
    with contextlib.suppress(TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(asyncio.shield(done), KILL_GRACE)
