"""Running one wrapped command over any transport: streams, sudo dialogue, timeout, kill.

Both connectors reduce a command to a :class:`Process` (an exec channel or a
local subprocess) started by a :data:`StartProcess` callable; :func:`execute`
does the rest the same way for both:

* stdout/stderr are read concurrently in chunks, decoded incrementally as UTF-8
  (invalid bytes replaced), handed to the callbacks and captured only when
  asked — so memory stays bounded however much a command prints;
* stderr goes through :class:`~opsforge.connectors.remote_shell.StderrFilter`:
  the password is written after sudo's prompt, the user's stdin after
  "become ok";
* on timeout or cancellation the command's process group is killed by a second
  command (:func:`~opsforge.connectors.remote_shell.kill_command`) started the
  same way, with the same become.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping
from typing import Protocol

from opsforge.connectors.base import OutputCallback
from opsforge.connectors.remote_shell import (
    BECOME_NEEDS_PASSWORD,
    Event,
    StderrFilter,
    kill_command,
    new_token,
    wrap,
)
from opsforge.errors import BecomeError, CommandTimeout
from opsforge.types import Become, Result

__all__ = ["OutputSink", "Outputs", "Process", "StartProcess", "StdinSource", "execute"]

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
KILL_TIMEOUT = 10.0  # the kill command itself
DRAIN_AFTER_KILL = 2.0  # collect the tail of the output after a kill

StdinSource = bytes | str | AsyncIterable[bytes] | None


class Process(Protocol):
    """A started command: the little a transport must provide."""

    async def read_stdout(self, n: int) -> bytes:
        """Up to ``n`` bytes; ``b""`` at end of stream."""

    async def read_stderr(self, n: int) -> bytes:
        """Up to ``n`` bytes; ``b""`` at end of stream."""

    async def write_stdin(self, data: bytes) -> None:
        """Write and drain; raises ``BrokenPipeError`` when the command is gone."""

    def close_stdin(self) -> None:
        """Send end-of-file."""

    async def wait(self) -> int | None:
        """The exit code (negative signal number when killed by a signal)."""

    def abort(self) -> None:
        """Tear the process/channel down now (not its process group)."""


StartProcess = Callable[[str], Awaitable[Process]]


class OutputSink:
    """One output stream: incremental decoding, callback, optional capture."""

    def __init__(self, callback: OutputCallback | None, capture: bool) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._callback = callback
        self._capture = capture
        self._parts: list[str] = []

    def feed(self, data: bytes, final: bool = False) -> None:
        text = self._decoder.decode(data, final)
        if not text:
            return
        if self._callback is not None:
            self._callback(text)
        if self._capture:
            self._parts.append(text)

    def text(self) -> str:
        return "".join(self._parts)


class Outputs:
    """The two output streams of one command, and its :class:`Result` once it ends."""

    def __init__(
        self,
        command: str,
        host: str,
        on_stdout: OutputCallback | None,
        on_stderr: OutputCallback | None,
        capture: bool,
    ) -> None:
        self.command, self.host = command, host
        self.out = OutputSink(on_stdout, capture)
        self.err = OutputSink(on_stderr, capture)
        self.began = time.monotonic()

    def result(self, code: int | None, timed_out: bool = False) -> Result:
        return Result(
            command=self.command,
            exit_code=code,
            stdout=self.out.text(),
            stderr=self.err.text(),
            duration=time.monotonic() - self.began,
            host=self.host,
            timed_out=timed_out,
        )


async def _chunks(stdin: StdinSource) -> AsyncIterable[bytes]:
    if stdin is None:
        return
    if isinstance(stdin, str):
        stdin = stdin.encode()
    if isinstance(stdin, bytes):
        for i in range(0, len(stdin), CHUNK):
            yield stdin[i : i + CHUNK]
        return
    async for chunk in stdin:
        yield chunk


class _Dialogue:
    """Drives one started process to its end."""

    def __init__(
        self,
        proc: Process,
        *,
        token: str,
        become: Become | None,
        stdin: StdinSource,
        stdout: OutputSink,
        stderr: OutputSink,
        host: str,
    ) -> None:
        self.proc = proc
        self.filter = StderrFilter(token, become=become is not None)
        self.become = become
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.host = host
        self.ready = asyncio.Event()  # user stdin may be written
        if become is None:
            self.ready.set()

    async def _pump_stdout(self) -> None:
        while data := await self.proc.read_stdout(CHUNK):
            self.stdout.feed(data)
        self.stdout.feed(b"", final=True)

    async def _pump_stderr(self) -> None:
        try:
            while data := await self.proc.read_stderr(CHUNK):
                text, events = self.filter.feed(data)
                for event in events:
                    await self._on_event(event)
                if text:
                    self.stderr.feed(text)
            self.stderr.feed(self.filter.finish(), final=True)
        finally:
            self.ready.set()
        if self.become is not None and not self.filter.become_ok:
            raise self._become_failed()

    async def _on_event(self, event: Event) -> None:
        if event is Event.BECOME_OK:
            self.ready.set()
        elif event is Event.PROMPT:
            assert self.become is not None
            if self.become.password is None:
                raise BecomeError(BECOME_NEEDS_PASSWORD, host=self.host)
            if self.filter.sudo_refused():
                raise self._become_failed()
            with contextlib.suppress(BrokenPipeError, ConnectionError):
                await self.proc.write_stdin(self.become.password.reveal().encode() + b"\n")

    def _become_failed(self) -> BecomeError:
        assert self.become is not None
        said = self.filter.preamble.decode("utf-8", "replace").strip()
        if self.filter.sudo_refused():
            why = f"sudo refused the password for becoming {self.become.user!r} (wrong password)"
        else:
            why = f"sudo -u {self.become.user} failed" + (f": {said}" if said else "")
        return BecomeError(why, host=self.host)

    async def _feed_stdin(self) -> None:
        await self.ready.wait()
        if self.become is not None and not self.filter.become_ok:
            return  # sudo is gone; nothing of the user's may reach it
        try:
            async for chunk in _chunks(self.stdin):
                await self.proc.write_stdin(chunk)
            self.proc.close_stdin()
        except (BrokenPipeError, ConnectionError):
            pass

    async def complete(self, *, feed: bool = True) -> int | None:
        tasks = [
            asyncio.ensure_future(self._pump_stdout()),
            asyncio.ensure_future(self._pump_stderr()),
        ]
        if feed:
            tasks.append(asyncio.ensure_future(self._feed_stdin()))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if (exc := task.exception()) is not None:
                    raise exc
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return await self.proc.wait()

    async def drain(self, limit: float) -> None:
        """After a kill: let the pumps collect what is left, briefly."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.complete(feed=False), limit)


async def _kill(start: StartProcess, pgid: int | None, become: Become | None, host: str) -> None:
    if pgid is None:
        return
    token = new_token()
    try:
        proc = await start(kill_command(pgid, become, token=token))
        quiet = OutputSink(None, False)
        dialogue = _Dialogue(
            proc, token=token, become=become, stdin=None, stdout=quiet, stderr=quiet, host=host
        )
        await asyncio.wait_for(dialogue.complete(), KILL_TIMEOUT)
    except Exception as exc:  # the kill is best effort; the caller's error matters
        log.warning("%s: could not kill process group %s: %s", host, pgid, exc)


async def execute(
    start: StartProcess,
    command: str,
    *,
    host: str,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    stdin: StdinSource = None,
    timeout: float | None = None,  # noqa: ASYNC109 (the interface takes a timeout)
    become: Become | None = None,
    on_stdout: OutputCallback | None = None,
    on_stderr: OutputCallback | None = None,
    capture: bool = True,
) -> Result:
    """Run ``command`` through ``start``; see the module docstring."""
    token = new_token()
    wrapped = wrap(command, env=env, cwd=cwd, become=become, token=token)
    outputs = Outputs(command, host, on_stdout, on_stderr, capture)
    out, err, result = outputs.out, outputs.err, outputs.result
    dialogue: _Dialogue | None = None

    async def stop() -> None:
        if dialogue is None:
            return
        await _kill(start, dialogue.filter.pgid, become, host)
        await dialogue.drain(DRAIN_AFTER_KILL)
        dialogue.proc.abort()

    try:
        async with asyncio.timeout(timeout) as scope:
            proc = await start(wrapped)
            dialogue = _Dialogue(
                proc, token=token, become=become, stdin=stdin, stdout=out, stderr=err, host=host
            )
            code = await dialogue.complete()
    except TimeoutError:
        if not scope.expired():
            raise
        await stop()
        partial = result(None, timed_out=True)
        raise CommandTimeout(f"timed out after {timeout:g}s: {command}", partial) from None
    except asyncio.CancelledError:
        await asyncio.shield(asyncio.ensure_future(stop()))
        raise
    except (BecomeError, ConnectionError):  # nothing ran / nothing left to reach
        if dialogue is not None:
            dialogue.proc.abort()
        raise
    except BaseException:  # e.g. an output callback raised: do not leave the command behind
        await stop()
        raise
    return result(code)
