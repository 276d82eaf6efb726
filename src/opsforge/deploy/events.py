"""Deploy events: what each operation will do (check) or did (apply) on a host."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from opsforge.deploy.operation import DiffItem
from opsforge.engine import Event

__all__ = ["OpStatus", "OperationResult"]


class OpStatus:
    """The status strings of :class:`OperationResult` (plain strings in JSON)."""

    OK = "ok"  # already in the desired state (or ran with changed=False)
    CHANGED = "changed"  # applied a change
    WOULD_CHANGE = "would_change"  # check mode: a change is planned
    FAILED = "failed"
    SKIPPED = "skipped"  # tags, or not run after an earlier failure
    IGNORED = "ignored"  # failed, but ignore_errors


@dataclass(frozen=True, kw_only=True, slots=True)
class OperationResult(Event):
    """One operation on one host: its status, the diff (secrets masked), output if it ran."""

    kind: ClassVar[str] = "operation"

    host: str
    index: int
    name: str
    op: str  # the operation's kind, e.g. files.template
    status: str
    diff: tuple[DiffItem, ...] = ()
    commands: tuple[str, ...] = ()  # the actions as shown (secrets masked)
    reason: str = ""
    output: str = ""
    exit_code: int | None = None
    origin: str = ""  # file:line of the declaration
    handler: str | None = None
