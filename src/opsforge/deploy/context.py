"""The host context a Python deploy receives: explicit, never global.

::

    from opsforge.deploy import files, server

    def deploy(host):
        files.directory(host, "/srv/app", mode="0755")
        files.template(host, "app.conf.j2", "/srv/app/app.conf", notify="restart app")
        if host.facts.os.family == "debian":
            ...

        @host.handler("restart app")
        def _(h):
            server.shell(h, "systemctl restart app")

The deploy function only *declares* operations; nothing runs while it runs.
Reading ``host.facts`` before they were gathered stops the evaluation with
:class:`FactsNeeded`; the planner gathers them (one round trip) and evaluates again,
so a deploy function must not have side effects beyond declaring operations.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from opsforge.deploy.facts.base import FactCache
from opsforge.deploy.facts.system import System, SystemInfo
from opsforge.deploy.operation import Operation
from opsforge.errors import InputError
from opsforge.types import Become

__all__ = ["Declared", "FactsNeeded", "HostContext"]


class FactsNeeded(Exception):
    """Raised inside a deploy function that reads facts not gathered yet."""


@dataclass(frozen=True)
class Declared:
    """An operation as declared, with its per-use settings."""

    op: Operation
    name: str
    tags: frozenset[str] = frozenset()
    notify: tuple[str, ...] = ()
    become: Become | None = None
    ignore_errors: bool = False
    handler: str | None = None  # set on the operations of a handler
    origin: str = ""  # file:line of the declaration in the user's deploy


@dataclass
class HostContext:
    """What a deploy function gets for one host."""

    name: str
    vars: Mapping[str, Any]
    groups: tuple[str, ...]
    _cache: FactCache
    default_become: Become | None = None
    declared: list[Declared] = field(default_factory=list)
    handlers: dict[str, Callable[[HostContext], None]] = field(default_factory=dict)
    _handler_name: str | None = None

    @property
    def facts(self) -> SystemInfo:
        """The host's system facts (OS, arch, hostname, ...), gathered on first use."""
        fact = System()
        if not self._cache.has(fact):
            raise FactsNeeded
        return self._cache.get(fact)

    def add(
        self,
        op: Operation,
        *,
        name: str | None = None,
        tags: Iterable[str] = (),
        notify: str | Sequence[str] = (),
        become: bool | Become | None = None,
        ignore_errors: bool = False,
        origin: str = "",
    ) -> Declared:
        """Declare ``op`` for this host (operation functions call this for you)."""
        if isinstance(become, bool):
            become_value = (self.default_become or Become()) if become else None
        else:
            become_value = become if become is not None else self.default_become
        notified = (notify,) if isinstance(notify, str) else tuple(notify)
        declared = Declared(
            op=op,
            name=name or op.describe(),
            tags=frozenset(tags),
            notify=notified,
            become=become_value,
            ignore_errors=ignore_errors,
            handler=self._handler_name,
            origin=origin or _caller_origin(),
        )
        self.declared.append(declared)
        return declared

    def handler(
        self, name: str
    ) -> Callable[[Callable[[HostContext], None]], Callable[[HostContext], None]]:
        """Register a handler: it runs once, at the end, if an operation notifying it changed."""

        def register(func: Callable[[HostContext], None]) -> Callable[[HostContext], None]:
            if name in self.handlers:
                raise InputError(f"handler '{name}' is defined twice", path=_caller_origin())
            self.handlers[name] = func
            return func

        return register

    def declare_handlers(self) -> None:
        """Evaluate every handler once, so its operations (and their facts) are known."""
        for name, func in self.handlers.items():
            self._handler_name = name
            try:
                func(self)
            finally:
                self._handler_name = None


#: the deploy layer itself: the first frame outside it is the deploy's (a user's file, or
#: a deploy opsforge builds itself, e.g. ``observe/agent/install.py``)
_PACKAGE_DIR = str(Path(__file__).resolve().parent) + os.sep


def _caller_origin() -> str:
    """file:line of the first frame outside the deploy package (the deploy's own line)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if not frame.f_code.co_filename.startswith(_PACKAGE_DIR):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return ""
