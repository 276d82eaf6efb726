"""``ConnectionPool``: one connector per host for a whole run.

The first :meth:`ConnectionPool.get` for a host opens its connector; callers
that arrive meanwhile wait for the same attempt. A failed connect is
remembered: later steps of that host fail fast with the same error instead of
hammering an unreachable host. Connector classes are found by name through the
entry-point group ``opsforge.connectors`` (built-ins as a fallback, so an
uninstalled checkout works).
"""

from __future__ import annotations

import asyncio
import functools
import importlib

from opsforge.connectors.base import Connector
from opsforge.errors import ConnectError, UsageError
from opsforge.types import ConnectOptions, HostSpec

__all__ = ["ConnectionPool", "available_connectors", "connector_class"]

ENTRY_POINT_GROUP = "opsforge.connectors"
_BUILTINS = {
    "local": "opsforge.connectors.local:LocalConnector",
    "ssh": "opsforge.connectors.ssh:SSHConnector",
}


@functools.cache
def _entry_points() -> dict[str, str]:
    """Built-ins plus the ``opsforge.connectors`` entry points (scanned once per process:
    the scan reads every installed distribution's metadata)."""
    from importlib.metadata import entry_points  # slow to import: only for a plugin's name

    found = dict(_BUILTINS)
    found.update({ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)})
    return found


def available_connectors() -> list[str]:
    """Names usable as ``HostSpec.connector``."""
    return sorted(_entry_points())


def connector_class(name: str) -> type[Connector]:
    """The connector class registered as ``name``; :class:`UsageError` when unknown."""
    target = _BUILTINS.get(name) or _entry_points().get(name)
    if target is None:
        raise UsageError(
            f"unknown connector {name!r}; available: {', '.join(available_connectors())}"
        )
    module_name, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"connector {name!r} ({target}) cannot be loaded: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise UsageError(f"connector {name!r} ({target}) is not a Connector subclass")
    return cls


class ConnectionPool:
    """Opens each host's connector once, shares it, closes them all at the end."""

    def __init__(self, options: ConnectOptions | None = None) -> None:
        self.options = options or ConnectOptions()
        self._attempts: dict[str, asyncio.Future[Connector]] = {}
        self._open: list[Connector] = []

    async def get(self, spec: HostSpec) -> Connector:
        """The connected connector of ``spec.name``; raises its (cached) ConnectError."""
        attempt = self._attempts.get(spec.name)
        if attempt is None:
            attempt = asyncio.ensure_future(self._connect(spec))
            self._attempts[spec.name] = attempt
        # shield: one caller being cancelled must not cancel the others' connect
        return await asyncio.shield(attempt)

    async def _connect(self, spec: HostSpec) -> Connector:
        connector = connector_class(spec.connector)(spec, self.options)
        try:
            await connector.connect()
        except ConnectError:
            raise
        except Exception as exc:  # a third-party connector broke its contract
            raise ConnectError(f"connect failed: {exc!r}", host=spec.name) from exc
        self._open.append(connector)
        return connector

    def failed(self) -> dict[str, ConnectError]:
        """Hosts whose connect failed, with the error."""
        out: dict[str, ConnectError] = {}
        for name, attempt in self._attempts.items():
            if attempt.done() and not attempt.cancelled():
                exc = attempt.exception()
                if isinstance(exc, ConnectError):
                    out[name] = exc
        return out

    async def close_all(self) -> None:
        """Close every open connector (and stop attempts still running)."""
        for attempt in self._attempts.values():
            if not attempt.done():
                attempt.cancel()
        await asyncio.gather(*self._attempts.values(), return_exceptions=True)
        opened, self._open = self._open, []
        await asyncio.gather(*(c.close() for c in opened), return_exceptions=True)
        self._attempts.clear()

    async def __aenter__(self) -> ConnectionPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close_all()
