"""Events: everything the executor has to say, as frozen data.

The engine never prints; renderers (terminal, JSON Lines, run history) subscribe
to these. Every event carries ``run_id`` and ``ts`` (epoch seconds, float), has a
class-level ``kind`` and a JSON-safe ``to_dict()`` in which secrets read ``***``.

Order within one run::

    RunStarted
      BatchStarted                       (one per serial batch; one in total without serial)
        StepStarted → StepOutput* → (StepRetrying → StepStarted → StepOutput*)* → StepFinished
        StepFinished                     (skipped steps: no StepStarted)
        HostFinished                     (as soon as every step of the host is done)
    RunFinished                          (always, also when interrupted)

Events are constructed with keywords only. :func:`to_jsonable` does the JSON
conversion for every ``to_dict()``, so a :class:`~opsforge.types.Secret` can
only ever leave the process as ``"***"``.
"""

from __future__ import annotations

import enum
import json
import math
import time
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import PurePath
from typing import Any, ClassVar

from opsforge.engine.summary import RunSummary
from opsforge.types import HostStatus, Result, Secret

__all__ = [
    "BatchStarted",
    "Event",
    "EventHandler",
    "HostFinished",
    "RunFinished",
    "RunStarted",
    "StepFinished",
    "StepOutput",
    "StepRetrying",
    "StepStarted",
    "to_jsonable",
]

MASK = "***"

#: a str as a JSON string (json's own C encoder for strings; ensure_ascii=False)
_quote_json = json.encoder.encode_basestring

_MAX_DEPTH = 32


def to_jsonable(value: Any, *, _depth: int = 0) -> Any:
    """A JSON-serialisable copy of ``value``.

    Secrets become ``"***"``; a :class:`Result` becomes ``Result.to_dict()``;
    enums become their value; mappings, sequences and sets become dicts and lists
    (sets sorted, for stable output); other dataclasses become dicts of their
    fields; non-finite floats become None; anything else becomes ``str(value)``.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:  # most values: as they are
        return value
    if _depth > _MAX_DEPTH:
        return "..."
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, _depth=_depth + 1)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Result):
        return value.to_dict()
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, type):
        return to_jsonable(to_dict(), _depth=_depth + 1)
    if isinstance(value, Mapping):
        return {
            str(to_jsonable(k, _depth=_depth + 1)): to_jsonable(v, _depth=_depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, Set):
        items = [to_jsonable(v, _depth=_depth + 1) for v in value]
        return sorted(items, key=repr)
    if isinstance(value, list | tuple):
        return [to_jsonable(v, _depth=_depth + 1) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, PurePath):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_jsonable(getattr(value, f.name), _depth=_depth + 1) for f in fields(value)
        }
    return str(value)


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    """Base of all events."""

    kind: ClassVar[str] = "event"

    run_id: str
    ts: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        """``{"kind": ..., "run_id": ..., "ts": ..., <fields>}``, JSON-safe, secrets masked."""
        data: dict[str, Any] = {"kind": self.kind}
        for name in _field_names(type(self)):
            data[name] = to_jsonable(getattr(self, name))
        return data

    def to_json(self) -> str:
        """:meth:`to_dict` as one JSON line (no newline): the run log's form."""
        return json.dumps(self.to_dict(), ensure_ascii=False, default=str)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """The dataclass fields of an event class, looked up once per class (an output line
    is an event: this runs for every line a job prints)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


#: A subscriber: called synchronously, in order, for every event.
EventHandler = Callable[[Event], None]


@dataclass(frozen=True, kw_only=True, slots=True)
class RunStarted(Event):
    """The run begins. ``steps`` is the number of steps in the plan."""

    kind: ClassVar[str] = "run_started"

    hosts: tuple[str, ...]
    steps: int
    forks: int
    serial: tuple[int | str, ...] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class BatchStarted(Event):
    """A serial batch (0-based ``index`` of ``total``) begins with these hosts."""

    kind: ClassVar[str] = "batch_started"

    index: int
    total: int
    hosts: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class StepStarted(Event):
    """One attempt (1-based) of a step begins."""

    kind: ClassVar[str] = "step_started"

    host: str
    step_id: str
    description: str
    attempt: int = 1


@dataclass(frozen=True, kw_only=True, slots=True)
class StepOutput(Event):
    """A chunk of output a step produced (``stream`` is e.g. ``stdout``/``stderr``)."""

    kind: ClassVar[str] = "step_output"

    host: str
    step_id: str
    stream: str
    text: str

    def to_json(self) -> str:
        """The same text as :meth:`Event.to_json`, built directly: one event per line a
        command prints, so this is the hot path of a verbose job."""
        quote = _quote_json
        ts = repr(self.ts) if math.isfinite(self.ts) else "null"
        return (
            f'{{"kind": "step_output", "run_id": {quote(self.run_id)}, "ts": {ts}, '
            f'"host": {quote(self.host)}, "step_id": {quote(self.step_id)}, '
            f'"stream": {quote(self.stream)}, "text": {quote(self.text)}}}'
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class StepRetrying(Event):
    """Attempt ``attempt`` failed; the next one starts after ``delay`` seconds."""

    kind: ClassVar[str] = "step_retrying"

    host: str
    step_id: str
    attempt: int
    delay: float
    reason: str
    retries_left: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class StepFinished(Event):
    """A step is done, whatever the outcome.

    ``attempts`` is 0 for a step that never started (skipped). ``traceback`` is
    set only for an unexpected exception in the step's code (an internal error).
    ``data`` is what the action reported (e.g. ``{"changed": True, "diff": ...}``).
    """

    kind: ClassVar[str] = "step_finished"

    host: str
    step_id: str
    status: HostStatus
    result: Result | None = None
    message: str = ""
    duration: float = 0.0
    attempts: int = 0
    data: Mapping[str, Any] = field(default_factory=dict)
    traceback: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class HostFinished(Event):
    """Every step of a host is done; ``status`` is the worst of its steps.

    ``steps_failed`` counts failed, timed-out, connect-failed and interrupted
    steps. ``message`` explains the status (the message of the worst step).
    ``duration`` runs from the host's first step start to its last step end.
    """

    kind: ClassVar[str] = "host_finished"

    host: str
    status: HostStatus
    steps_total: int
    steps_ok: int
    steps_changed: int
    steps_failed: int
    steps_skipped: int
    message: str = ""
    duration: float = 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class RunFinished(Event):
    """The run is over (completed, stopped or interrupted)."""

    kind: ClassVar[str] = "run_finished"

    summary: RunSummary
