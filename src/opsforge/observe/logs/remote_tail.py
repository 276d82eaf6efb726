"""Following a file on many hosts at once over opsforge's connectors.

:func:`tail_hosts` runs ``tail -n N -F -- PATH`` on every host through a
:class:`~opsforge.connectors.ConnectionPool`, cuts each host's output into lines
and hands ``(host, line)`` to a callback as they arrive, merged in arrival order.
Cancelling it (Ctrl-C) cancels every command, and the connectors kill the remote
process groups, so no ``tail`` is left behind. A host that cannot be reached or
whose ``tail`` fails is reported through ``on_error`` and the others go on.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Callable, Sequence

from opsforge.connectors.pool import ConnectionPool
from opsforge.errors import OpsforgeError
from opsforge.types import Become, ConnectOptions, HostSpec

__all__ = ["tail_command", "tail_hosts"]


def tail_command(path: str, lines: int) -> str:
    """The remote command: follow by name (rotation-proof), start ``lines`` back."""
    return f"exec tail -n {int(lines)} -F -- {shlex.quote(path)}"


class _LineBuffer:
    def __init__(self, host: str, on_line: Callable[[str, str], None]) -> None:
        self.host = host
        self.on_line = on_line
        self.partial = ""

    def feed(self, chunk: str) -> None:
        parts = (self.partial + chunk).split("\n")
        self.partial = parts.pop()
        for line in parts:
            self.on_line(self.host, line.rstrip("\r"))

    def flush(self) -> None:
        if self.partial:
            self.on_line(self.host, self.partial)
            self.partial = ""


async def tail_hosts(
    specs: Sequence[HostSpec],
    options: ConnectOptions,
    path: str,
    on_line: Callable[[str, str], None],
    on_error: Callable[[str, str], None],
    *,
    lines: int = 10,
    become: Become | None = None,
) -> None:
    """Follow ``path`` on every host until each ``tail`` ends or this is cancelled."""
    command = tail_command(path, lines)

    async def one(pool: ConnectionPool, spec: HostSpec) -> None:
        buffer = _LineBuffer(spec.name, on_line)
        errors: list[str] = []
        try:
            connector = await pool.get(spec)
            result = await connector.run(
                command,
                on_stdout=buffer.feed,
                on_stderr=errors.append,
                capture=False,
                become=become or spec.become,
            )
        except OpsforgeError as exc:
            on_error(spec.name, str(exc.message))
            return
        finally:
            buffer.flush()
        if result.exit_code not in (0, None):
            on_error(spec.name, f"tail exited {result.exit_code}: {''.join(errors).strip()}")

    async with ConnectionPool(options) as pool:
        await asyncio.gather(*(one(pool, spec) for spec in specs))
