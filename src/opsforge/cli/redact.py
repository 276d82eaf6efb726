"""Redact the secrets a run knows about from everything it shows or records.

A :class:`~opsforge.types.Secret` already renders as ``***``; this catches its *value*
where it reached plain text: a command's output (``cat`` of a file a deploy wrote from a
vault value), a diff of a line built with ``.reveal()``, an error message. The known
secrets are the inventory's vault values and password variables of the targeted hosts
and the become password. Output is passed on line by line per host and stream, so a
value split across two chunks is still caught. Values shorter than
:data:`MIN_LENGTH` characters are not masked (they would mangle ordinary text).
"""

from __future__ import annotations

import dataclasses
import logging
import shlex
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from opsforge.engine import Event, StepFinished, StepOutput
from opsforge.types import HostSpec, Secret

__all__ = ["MIN_LENGTH", "Redactor", "known_secrets"]

logger = logging.getLogger(__name__)

MIN_LENGTH = 4
MASK = "***"
#: a partial line longer than this is passed on without waiting for its end
_MAX_PENDING = 64 * 1024


def _walk_secrets(value: Any, found: set[str], depth: int = 0) -> None:
    if depth > 16:
        return
    if isinstance(value, Secret):
        found.add(value.reveal())
    elif isinstance(value, Mapping):
        for item in value.values():
            _walk_secrets(item, found, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _walk_secrets(item, found, depth + 1)


def known_secrets(specs: Iterable[HostSpec], extra: Iterable[Secret | None] = ()) -> list[str]:
    """Every secret value of ``specs`` (vault values, passwords) and ``extra``."""
    found: set[str] = set()
    for spec in specs:
        _walk_secrets(spec.vars, found)
        _walk_secrets([spec.password, spec.become.password if spec.become else None], found)
    _walk_secrets(list(extra), found)
    return sorted((v for v in found if len(v) >= MIN_LENGTH), key=len, reverse=True)


class Redactor:
    """Masks ``values`` in events (and outcomes) on their way to ``subscribers``."""

    def __init__(self, values: Iterable[str]) -> None:
        forms: set[str] = set()
        for value in values:
            forms.add(value)
            forms.add(shlex.quote(value))
        self.forms = sorted(forms, key=len, reverse=True)  # the quoted form first
        self.pending: dict[tuple[str, str, str], str] = {}

    def text(self, text: str) -> str:
        for form in self.forms:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def value(self, value: Any, depth: int = 0) -> Any:
        """``value`` with every string inside it masked (dataclasses rebuilt)."""
        if depth > 16 or not self.forms:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, tuple):
            return tuple(self.value(v, depth + 1) for v in value)
        if isinstance(value, list):
            return [self.value(v, depth + 1) for v in value]
        if isinstance(value, Mapping):
            return {k: self.value(v, depth + 1) for k, v in value.items()}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {
                f.name: self.value(getattr(value, f.name), depth + 1)
                for f in dataclasses.fields(value)
                if f.init
            }
            try:
                return dataclasses.replace(value, **changes)
            except (TypeError, ValueError):
                return value
        return value

    def _lines(self, event: StepOutput) -> list[Event]:
        """Whole lines of this host's stream (the rest waits for its end)."""
        key = (event.host, event.step_id, event.stream)
        data = self.pending.pop(key, "") + event.text
        cut = data.rfind("\n") + 1
        if cut == 0 and len(data) < _MAX_PENDING:
            self.pending[key] = data
            return []
        if cut and data[cut:]:
            self.pending[key] = data[cut:]
            data = data[:cut]
        return [dataclasses.replace(event, text=self.text(data))]

    def _flush(self, host: str, step_id: str, like: Event) -> list[Event]:
        out: list[Event] = []
        for key in [k for k in self.pending if k[0] == host and k[1] == step_id]:
            text = self.pending.pop(key)
            out.append(
                StepOutput(
                    run_id=like.run_id,
                    host=host,
                    step_id=step_id,
                    stream=key[2],
                    text=self.text(text),
                )
            )
        return out

    def events(self, event: Event) -> list[Event]:
        """What to pass on for ``event``: masked, output in whole lines."""
        if isinstance(event, StepOutput):
            return self._lines(event)
        before: list[Event] = []
        if isinstance(event, StepFinished):
            before = self._flush(event.host, event.step_id, event)
        return [*before, self.value(event)]

    def wrap(self, subscribers: list[Callable[[Event], None]]) -> list[Callable[[Event], None]]:
        """One subscriber that masks, then calls every one of ``subscribers`` in order."""

        def forward(event: Event) -> None:
            for masked in self.events(event):
                for subscriber in subscribers:
                    try:
                        subscriber(masked)
                    except Exception:  # each subscriber isolated, as the engine does
                        logger.warning("event subscriber %r failed", subscriber, exc_info=True)

        return [forward]
