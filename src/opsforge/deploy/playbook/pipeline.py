"""The pending work of one host: gather facts once for every planned task, plan them
in order against predicted facts, apply them in one script, emit events in order.

:meth:`Pipeline.plan` is the "gather" step (one round trip for every fact the
pending tasks need), :meth:`Pipeline.apply` the "write" step (one script per
``become`` setting). A task that fails raises :class:`TaskFailedAt`; the host run
decides where execution goes next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from opsforge.connectors.base import Connector
from opsforge.deploy.applier import apply_host
from opsforge.deploy.commands import Command, quote
from opsforge.deploy.context import Declared
from opsforge.deploy.events import OperationResult, OpStatus
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.system import System
from opsforge.deploy.operation import Change, Operation, PlanEnv
from opsforge.deploy.planner import HostPlan, PlannedOp, gather_facts
from opsforge.deploy.playbook.modules import Output
from opsforge.deploy.playbook.record import Record, Unit
from opsforge.deploy.playbook.state import HostState
from opsforge.deploy.playbook.variables import template_names
from opsforge.errors import OpsforgeError
from opsforge.templating import TemplateEngine
from opsforge.types import Become

__all__ = ["Pipeline", "TaskFailedAt"]


class TaskFailedAt(Exception):
    def __init__(self, record: Record, message: str) -> None:
        super().__init__(message)
        self.record = record
        self.message = message


@dataclass(frozen=True)
class _Ran(Operation):
    """Stands for a call without an operation of its own in the applier's plan."""

    kind: ClassVar[str] = "playbook.task"
    text: str

    def describe(self) -> str:
        return self.text

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        return Change.noop("")


class Pipeline:
    def __init__(
        self,
        state: HostState,
        conn: Connector,
        engine: TemplateEngine,
        emit: Callable[[OperationResult], None],
        *,
        want_system: Callable[[], bool],
        gather_become: Become | None,
    ) -> None:
        self.state = state
        self.conn = conn
        self.engine = engine
        self.emit = emit
        self.want_system = want_system
        self.gather_become = gather_become
        self.records: list[Record] = []
        self.notified: set[str] = set()

    # -- queries ---------------------------------------------------------------------

    def unapplied(self) -> list[tuple[Record, Unit]]:
        return [(r, u) for r in self.records for u in r.units
                if u.call is not None and not u.applied and not r.final]  # fmt: skip

    def opaque_pending(self) -> bool:
        return any(u.call is not None and u.call.opaque and not r.check and not r.read_only
                   and (u.change is None or not u.change.is_noop)
                   for r, u in self.unapplied())  # fmt: skip

    def unknown_notify(self) -> bool:
        """A pending task notifies handlers, and whether it changes is not known yet."""
        return any(r.notify and not r.final and not r.notified for r in self.records)

    # -- gather and plan -------------------------------------------------------------

    async def plan(self) -> None:
        todo = [(r, u) for r, u in self.unapplied() if u.change is None]
        wanted = [(r.become, u.call.facts()) for r, u in todo if u.call is not None]
        extra: list[Fact[Any]] = []
        if self.want_system() and not self.state.cache.has(System()):
            extra.append(System())
        if not wanted:  # the system fact alone: with the play's become, as before
            await self.state.cache.gather(self.conn, extra, become=self.gather_become)
        else:  # each task's become (play or task level), by the planner's rule
            await gather_facts(self.state.cache, self.conn, wanted, extra)
        for record in dict.fromkeys(r for r, _ in todo):
            for unit in record.units:
                if unit.call is None or unit.change is not None:
                    continue
                try:
                    unit.change = self._plan_unit(record, unit)
                except TaskFailedAt:
                    raise
                except OpsforgeError as exc:
                    unit.status, unit.output = OpStatus.FAILED, str(exc)
                    unit.result = {"changed": False, "failed": True, "msg": str(exc)}
                    raise TaskFailedAt(record, str(exc)) from None
                self._known_at_plan(record, unit)
            self._settle(record)

    def _plan_unit(self, record: Record, unit: Unit) -> Change:
        call = unit.call
        assert call is not None
        op = call.op()
        variables: dict[str, Any] = {}
        if op is not None and op.kind == "files.template":
            names = template_names(self.engine, getattr(op, "src", ""))
            variables = unit.space.context_names(names)
        env = PlanEnv(self.state.name, variables, record.task.base_dir, self.engine,
                      record.secrets)  # fmt: skip
        change = call.plan(self.state.cache, env)
        for fact, value in change.facts_after:
            self.state.cache.put(fact, value)
        if record.environment and change.actions:
            exports = tuple(
                Command(f"export {k}={quote(v)}") for k, v in record.environment.items()
            )
            change = Change(exports + change.actions, change.diff, change.reason, change.changed,
                            change.facts_after)  # fmt: skip
        return change

    def _known_at_plan(self, record: Record, unit: Unit) -> None:
        call, change = unit.call, unit.change
        assert call is not None
        assert change is not None
        if record.check and call.check_skips and change.actions:
            unit.status = OpStatus.SKIPPED
            unit.skip_reason = "check mode: would run"
            unit.result = {"changed": False, "skipped": True,
                           "msg": "Command would have run if not in check mode"}  # fmt: skip
            return
        result = call.result(change, None)
        if result is None:
            return
        unit.result = self._judge(record, unit, result)
        if record.check or not change.actions:
            changed = bool(unit.result.get("changed"))
            if unit.result.get("failed"):
                unit.status = OpStatus.FAILED
            elif changed:
                unit.status = OpStatus.WOULD_CHANGE if record.check else OpStatus.CHANGED
            else:
                unit.status = OpStatus.OK
            unit.applied = not change.actions or record.check

    def _judge(self, record: Record, unit: Unit, result: dict[str, Any]) -> dict[str, Any]:
        """``changed_when`` / ``failed_when`` applied to a result."""
        if record.changed_when is None and record.failed_when is None:
            return result
        result = dict(result)
        space = unit.space.child({record.register: result} if record.register else {})
        if record.changed_when is not None:
            result["changed"] = all(space.truth(c) for c in record.changed_when)
        if record.failed_when is not None:
            failed = any(space.truth(c) for c in record.failed_when)
            result["failed"] = failed
            if failed:
                result.setdefault("msg", "failed_when was true")
            else:
                result.pop("msg", None) if result.get("msg") == "non-zero return code" else None
        return result

    def _settle(self, record: Record) -> None:
        """Once every unit's result is known: register it and notify handlers."""
        if any(u.call is not None and u.result is None for u in record.units):
            return
        for unit in record.units:  # getent's getent_DATABASE
            if unit.call is not None and unit.call.sets_facts() and unit.result:
                self.state.facts.update(unit.result.get("ansible_facts") or {})
        if record.register:
            self.state.facts[record.register] = record.registered()
        if record.notify and not record.notified:
            if any(record.unit_changed(u) for u in record.units):
                self.notified.update(record.notify)
            record.notified = True
        if all(u.status is not None for u in record.units):
            record.finish()

    # -- apply -----------------------------------------------------------------------

    async def apply(self) -> None:
        await self.plan()
        runnable = [(r, u) for r, u in self.unapplied()
                    if (not r.check or (u.call is not None and u.call.runs_in_check))
                    and u.change is not None and u.change.actions and u.status is None]  # fmt: skip
        if runnable:
            await self._run(runnable)
        failed: Record | None = None
        for record in self.records:
            for unit in record.units:
                if unit.call is not None and unit.status is None:
                    unit.status = OpStatus.SKIPPED  # planned after a failure: never ran
            if not record.final:
                self._settle(record)
                record.finish()
            if failed is None and record.status == OpStatus.FAILED:
                failed = record
        if failed is not None:
            raise TaskFailedAt(failed, failed.output or "failed")
        self.emit_ready()

    async def _run(self, runnable: list[tuple[Record, Unit]]) -> None:
        ops = []
        for index, (record, unit) in enumerate(runnable):
            change = unit.change
            assert change is not None
            assert unit.call is not None
            op = unit.call.op() or _Ran(unit.call.describe())
            may_fail = record.ignore_errors or record.failed_when is not None
            declared = Declared(op=op, name=record.name, become=record.become,
                                ignore_errors=may_fail, origin=record.task.origin)  # fmt: skip
            ops.append(PlannedOp(index, declared, change))
        secrets = tuple(s for r, _ in runnable for s in r.secrets)
        plan = HostPlan(self.state.name, tuple(ops), secrets=secrets)

        def count() -> None:
            self.state.applies += 1

        outcomes = await apply_host(self.conn, plan, on_round_trip=count)
        for (record, unit), outcome in zip(runnable, outcomes, strict=True):
            unit.applied = True
            unit.exit_code = outcome.exit_code
            call, change = unit.call, unit.change
            assert call is not None
            assert change is not None
            if outcome.status == OpStatus.SKIPPED:
                unit.status, unit.output = OpStatus.SKIPPED, outcome.output
                unit.result = {"changed": False, "skipped": True, "msg": outcome.output}
                continue
            ran_ok = outcome.status in (OpStatus.OK, OpStatus.CHANGED)
            result = call.result(change, Output(outcome.exit_code, outcome.output))
            if result is None or (not ran_ok and not result.get("failed")):
                result = {"changed": False, "failed": True,
                          "msg": outcome.output.strip()[-2000:] or "failed",
                          "rc": outcome.exit_code}  # fmt: skip
            result = self._judge(record, unit, result)
            unit.result = result
            unit.output = self._shown_output(result, outcome.output)
            if result.get("failed"):
                unit.status = OpStatus.IGNORED if record.ignore_errors else OpStatus.FAILED
            elif result.get("changed"):
                unit.status = OpStatus.CHANGED
            else:
                unit.status = OpStatus.OK

    @staticmethod
    def _shown_output(result: dict[str, Any], raw: str) -> str:
        if "stdout" in result or "stderr" in result:
            parts = [str(result.get("stdout") or ""), str(result.get("stderr") or "")]
            text = "\n".join(p for p in parts if p)
            if result.get("failed") and not text:
                text = str(result.get("msg") or "")
            return text
        if result.get("failed"):
            return str(result.get("msg") or raw)
        return ""

    # -- events ----------------------------------------------------------------------

    def add(self, record: Record) -> None:
        self.records.append(record)
        self.emit_ready()

    def emit_ready(self) -> None:
        """Emit finished records from the front, in order."""
        while self.records and self.records[0].final:
            record = self.records.pop(0)
            self.emit(record.event("", self.state.name))

    def drop_from(self, record: Record) -> list[Record]:
        """Forget ``record`` and everything queued after it (they never ran)."""
        index = self.records.index(record)
        dropped = self.records[index:]
        self.records = self.records[:index]
        return dropped
