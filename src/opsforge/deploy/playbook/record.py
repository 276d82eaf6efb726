"""One task run on one host (a :class:`Record`) and its loop items (:class:`Unit`):
what was planned, what happened, the registered result and the event."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opsforge.deploy.events import OperationResult, OpStatus
from opsforge.deploy.operation import Change, DiffItem
from opsforge.deploy.playbook.model import Task
from opsforge.deploy.playbook.modules import ModuleCall
from opsforge.deploy.playbook.variables import VarSpace
from opsforge.deploy.playbook.walker import Cursor
from opsforge.types import Become, Secret

__all__ = ["Record", "Snapshot", "Unit"]

NO_LOG = "the output has been hidden due to the fact that 'no_log: true' was specified"


@dataclass(eq=False)
class Unit:
    """One module call for one loop item."""

    call: ModuleCall | None  # None: the item was skipped by ``when``
    space: VarSpace
    item: Any = None
    looped: bool = False
    label: str = ""
    skip_reason: str = ""
    false_condition: Any = None
    change: Change | None = None  # set when planned
    status: str | None = None  # set when final
    output: str = ""
    exit_code: int | None = None
    result: dict[str, Any] | None = None
    applied: bool = False

    @property
    def planned(self) -> bool:
        return self.call is None or self.change is not None


@dataclass
class Snapshot:
    """Host state before a task: restored when the task turns out to have failed."""

    facts: dict[str, Any]
    include_vars: dict[str, Any]
    notified: set[str]


@dataclass(eq=False)
class Record:
    """A task on a host: its units, settings, and (once final) status and output."""

    task: Task
    index: int
    name: str
    cursor: Cursor
    snapshot: Snapshot
    units: list[Unit] = field(default_factory=list)
    register: str | None = None
    notify: tuple[str, ...] = ()
    become: Become | None = None
    check: bool = False
    ignore_errors: bool = False
    no_log: bool = False
    diff: bool = True
    environment: dict[str, str] = field(default_factory=dict)
    changed_when: tuple[Any, ...] | None = None
    failed_when: tuple[Any, ...] | None = None
    handler: str | None = None
    status: str | None = None
    output: str = ""
    reason: str = ""
    loop_var: str = "item"
    index_var: str | None = None
    secrets: tuple[Secret, ...] = ()
    notified: bool = False  # handlers already notified for this record

    @property
    def read_only(self) -> bool:
        """``changed_when: false``: the user says the task changes nothing."""
        conds = self.changed_when
        return (
            conds is not None
            and len(conds) == 1
            and str(conds[0]).strip().lower() in ("false", "no", "0", "{{ false }}")
        )

    @property
    def final(self) -> bool:
        return self.status is not None

    def unit_changed(self, unit: Unit) -> bool:
        return bool(unit.result and unit.result.get("changed"))

    def registered(self) -> dict[str, Any]:
        """The value ``register`` stores (a loop's results under ``results``)."""
        if not any(u.looped for u in self.units):
            unit = self.units[0] if self.units else None
            return dict(unit.result or {}) if unit is not None else {"skipped": True}
        results = []
        for unit in self.units:
            entry = dict(unit.result or {})
            entry["item"] = unit.item
            entry["ansible_loop_var"] = self.loop_var
            results.append(entry)
        return {
            "changed": any(r.get("changed") for r in results),
            "failed": any(r.get("failed") for r in results),
            "skipped": bool(results) and all(r.get("skipped") for r in results),
            "msg": "All items completed",
            "results": results,
        }

    def finish(self) -> None:
        """The record's status from its units' statuses."""
        statuses = [u.status for u in self.units]
        if OpStatus.FAILED in statuses:
            self.status = OpStatus.FAILED
        elif OpStatus.IGNORED in statuses:
            self.status = OpStatus.IGNORED
        elif OpStatus.CHANGED in statuses:
            self.status = OpStatus.CHANGED
        elif OpStatus.WOULD_CHANGE in statuses:
            self.status = OpStatus.WOULD_CHANGE
        elif statuses and all(s == OpStatus.SKIPPED for s in statuses):
            self.status = OpStatus.SKIPPED
        else:
            self.status = OpStatus.OK
        reasons = [u.skip_reason or (u.change.reason if u.change else "") for u in self.units]
        self.reason = "; ".join(dict.fromkeys(r for r in reasons if r))[:500]
        outputs = []
        for unit in self.units:
            text = unit.output.strip()
            if text:
                outputs.append(f"[{unit.label}] {text}" if unit.looped else text)
        self.output = "\n".join(outputs)

    def event(self, run_id: str, host: str) -> OperationResult:
        diff: tuple[DiffItem, ...] = ()
        commands: tuple[str, ...] = ()
        for unit in self.units:
            if unit.change is not None:
                diff += unit.change.diff
                commands += tuple(a.shown() for a in unit.change.actions)
        output = self.output
        if self.no_log:
            diff, commands = (), ()
            output = NO_LOG if output else ""
        elif not self.diff:
            diff = ()
        op = next((u.call.op() for u in self.units if u.call is not None and u.call.op()), None)
        return OperationResult(
            run_id=run_id,
            host=host,
            index=self.index,
            name=self.name,
            op=op.kind if op is not None else self.task.module,
            status=self.status or OpStatus.SKIPPED,
            diff=diff,
            commands=commands,
            reason=self.reason,
            output=output,
            exit_code=next((u.exit_code for u in self.units if u.exit_code not in (None, 0)), None),
            origin=self.task.origin,
            handler=self.handler,
        )
