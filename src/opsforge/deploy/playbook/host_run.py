"""One play on one host: walk the tasks, plan ahead, apply only when something needs it.

Tasks are evaluated in order. A task whose arguments are known is added to the
pipeline; facts for every pending task are gathered in one round trip and their
changes applied in one script. Evaluation stops and the pipeline is synced only
when a task reads a value that is not known yet (:class:`NeedsSync`: a registered
result, gathered facts), or when a task must run alone (``until``, delegation,
``run_once``, ``failed_when`` on output, ``meta: flush_handlers`` with an open
notification). A task that fails sends execution back to its place: the host's
state is restored to what it was before it, and the failure goes to the nearest
``rescue``/``always`` (:mod:`.walker`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from opsforge.connectors.base import Connector
from opsforge.deploy.events import OperationResult, OpStatus
from opsforge.deploy.playbook import special as special_tasks
from opsforge.deploy.playbook.args import as_bool, as_float, as_int, as_str
from opsforge.deploy.playbook.controller import TaskFailure, run_controller
from opsforge.deploy.playbook.host_vars import SpaceBuilder
from opsforge.deploy.playbook.loops import loop_control, loop_items, loop_vars
from opsforge.deploy.playbook.mod_async import with_async
from opsforge.deploy.playbook.mod_commands import CommandCall
from opsforge.deploy.playbook.model import Task
from opsforge.deploy.playbook.modules import BuildEnv, lookup_module
from opsforge.deploy.playbook.pipeline import Pipeline, TaskFailedAt
from opsforge.deploy.playbook.record import Record, Snapshot, Unit
from opsforge.deploy.playbook.state import HostState, PlayRun
from opsforge.deploy.playbook.variables import APPLY, GATHER, NeedsSync, Pending, VarSpace
from opsforge.deploy.playbook.walker import Cursor, Failure, HostFailed, advance, fail, start
from opsforge.errors import InputError, OpsforgeError
from opsforge.types import Become

__all__ = ["HostRun", "Rewind"]


class Rewind(Exception):
    """Go on from ``cursor`` (after a failure was routed, or an include was entered)."""

    def __init__(self, cursor: Cursor) -> None:
        super().__init__("rewind")
        self.cursor = cursor


def selected(tags: frozenset[str], only: frozenset[str], skip: frozenset[str]) -> bool:
    """--tags / --skip-tags with Ansible's ``always``, ``never``, ``tagged``, ``untagged``."""
    if skip and (tags & skip or ("tagged" in skip and tags) or ("untagged" in skip and not tags)):
        return False
    if "never" in tags and not ((tags - {"never"}) & only or "never" in only):
        return False
    if not only or "all" in only or "always" in tags:
        return True
    return bool(tags & only or ("tagged" in only and tags) or ("untagged" in only and not tags))


class HostRun:
    """Runs one play on one host (see the module docstring)."""

    def __init__(self, play_run: PlayRun, state: HostState, conn: Connector,
                 emit: Callable[[OperationResult], None]) -> None:  # fmt: skip
        self.pr = play_run
        self.play = play_run.play
        self.state = state
        self.conn = conn
        self.options = play_run.options
        self.ended = False
        self.spaces = SpaceBuilder(play_run, state)
        gather = self.play.keyword("gather_facts", True)
        self.spaces.wanted = as_bool(self.spaces.play_space().render(gather), "gather_facts")
        self.pipe = Pipeline(state, conn, play_run.engine, emit,
                             want_system=lambda: self.spaces.wanted,
                             gather_become=self._play_become())  # fmt: skip

    # -- the loop ----------------------------------------------------------------------

    async def run(self) -> None:
        """Run the play on this host; raises HostFailed when the host fails."""
        self.spaces.load_vars_files()
        cursor = start(self.play.body)
        while True:
            try:
                task, cursor = advance(cursor)
                if task is None or self.ended or self.pr.ended:
                    await self.sync(APPLY)
                    return
                cursor = await self.step(task, cursor)
            except Rewind as rewind:
                cursor = rewind.cursor
            except HostFailed:
                with contextlib.suppress(Rewind, HostFailed):
                    await self.sync(APPLY)  # always sections queued before the end
                raise

    async def sync(self, level: int) -> None:
        """Gather and plan (GATHER) or also apply (APPLY) everything pending."""
        try:
            if level >= APPLY:
                await self.pipe.apply()
            else:
                await self.pipe.plan()
        except TaskFailedAt as failed:
            await self.fail_record(failed.record, failed.message)

    async def step(self, task: Task, cursor: Cursor) -> Cursor:
        if task.module == "meta":
            return await special_tasks.meta(self, task, cursor)
        if not selected(task.tags, self.options.tags, self.options.skip_tags):
            return cursor
        snapshot = self.snapshot()
        for _ in range(50):
            try:
                return await self.attempt(task, cursor, snapshot)
            except NeedsSync as need:
                if need.level >= APPLY and not self.pipe.records and not self.pipe.unapplied():
                    raise InputError(f"'{need.name}' is never set", path=task.origin) from None
                await self.sync(need.level)
            except TaskFailure as failure:
                await self.sync(APPLY)
                await self.fail_new(task, cursor, snapshot, failure.message, failure.result)
            except (OpsforgeError, TaskFailedAt) as exc:
                if isinstance(exc, TaskFailedAt):
                    raise
                await self.sync(APPLY)
                message = str(exc)
                await self.fail_new(task, cursor, snapshot, message,
                                    {"changed": False, "failed": True, "msg": message})  # fmt: skip
        raise InputError("a task kept waiting for values that never came", path=task.origin)

    # -- one task ----------------------------------------------------------------------

    def new_record(self, task: Task, cursor: Cursor, snapshot: Snapshot, space: VarSpace,
                   handler: str | None = None) -> Record:  # fmt: skip
        kw = task.keywords
        name = task.display_name
        if "{{" in name:
            with contextlib.suppress(OpsforgeError, NeedsSync):
                name = as_str(space.render(name, task.origin))
        check = self.options.check
        if "check_mode" in kw:
            check = as_bool(space.render(kw["check_mode"]), "check_mode")
        env = space.render(kw.get("environment") or {}, task.origin)
        if not isinstance(env, dict):
            raise InputError("environment must be a mapping")
        record = Record(
            task=task,
            index=self.state.next_index,
            name=name,
            cursor=cursor,
            snapshot=snapshot,
            register=as_str(kw["register"]) if kw.get("register") else None,
            notify=_names(space.render(kw.get("notify"))) if kw.get("notify") else (),
            become=self.become(task, space),
            check=check,
            ignore_errors=as_bool(space.render(kw.get("ignore_errors")), "ignore_errors"),
            no_log=as_bool(space.render(kw.get("no_log")), "no_log"),
            diff=as_bool(space.render(kw.get("diff", True)), "diff", default=True),
            environment={str(k): as_str(v) for k, v in env.items()},
            changed_when=_conds(kw.get("changed_when")),
            failed_when=_conds(kw.get("failed_when")),
            handler=handler,
        )
        self.state.next_index += 1
        return record

    async def attempt(self, task: Task, cursor: Cursor, snapshot: Snapshot,
                      handler: str | None = None) -> Cursor:  # fmt: skip
        space = self.spaces.space(task, cursor)
        spec = lookup_module(task.module)
        if spec is None:
            raise InputError(f"unknown module '{task.module}'", path=task.origin)
        if spec.controller and task.module not in ("debug", "set_fact", "assert", "fail",
                                                   "include_vars"):  # fmt: skip
            return await special_tasks.special(self, task, cursor, space, snapshot)
        items = loop_items(task, space)
        control = loop_control(task, space)
        record = self.new_record(task, cursor, snapshot, space, handler)
        record.loop_var, record.index_var = control.loop_var, control.index_var
        env = BuildEnv(self.state.name, self.pr.engine, tuple(self.spaces.search_dirs(task)),
                       record.check)  # fmt: skip
        produced_facts: dict[str, Any] = {}
        for index, item in enumerate(items if items is not None else [None]):
            item_space = space if items is None else space.child(
                loop_vars(control, item, index, items))  # fmt: skip
            label = _label(control.label, item, item_space) if items is not None else ""
            unit = Unit(None, item_space, item, items is not None, label)
            false = next((c for c in task.when if not item_space.truth(c.expr, c.origin)), None)
            if false is not None:
                unit.status = OpStatus.SKIPPED
                unit.skip_reason = "Conditional result was False"
                unit.result = {"changed": False, "skipped": True, "false_condition": false.expr,
                               "skip_reason": "Conditional result was False"}  # fmt: skip
                record.units.append(unit)
                continue
            if spec.controller:
                produced = run_controller(task, item_space, self.options.secrets,
                                          self.spaces.search_dirs(task))  # fmt: skip
                produced_facts.update(produced.facts)
                self.state.include_vars.update(produced.include_vars)
                unit.status, unit.output = OpStatus.OK, produced.output
                unit.result = {"failed": False, **produced.result}
                record.units.append(unit)
                continue
            args = item_space.render(dict(task.args), task.origin)
            assert spec.build is not None
            calls = with_async(spec.build(args, env), task.keywords,
                               lambda v, s=item_space: s.render(v, task.origin))  # fmt: skip
            for n, call in enumerate(calls):
                record.units.append(unit if n == 0 else replace(unit, call=None))
                record.units[-1].call = call
        self.state.facts.update(produced_facts)
        if items == []:
            record.units.append(Unit(None, space, skip_reason="no items", status=OpStatus.SKIPPED,
                                     result={"changed": False, "skipped": True}))  # fmt: skip
        return await self.queue(record, task, space)

    async def queue(self, record: Record, task: Task, space: VarSpace) -> Cursor:
        """Put a prepared record into the pipeline (or run it alone when it must)."""
        kw = task.keywords
        calls = [u.call for u in record.units if u.call is not None]
        if not calls:
            if record.register:
                self.state.facts[record.register] = record.registered()
            record.finish()
            self.pipe.add(record)
            return record.cursor
        if kw.get("delegate_to") is not None:
            target = as_str(space.render(kw["delegate_to"]), "delegate_to")
            if target != self.state.name:
                await special_tasks.run_delegated(self, record, target)
                return record.cursor
        if kw.get("run_once") is not None and as_bool(space.render(kw["run_once"]), "run_once"):
            await special_tasks.run_once(self, record)
            return record.cursor
        if kw.get("until") is not None:
            await special_tasks.run_until(self, record, space)
            return record.cursor
        fresh = any(u.call is not None and (u.call.info or (isinstance(u.call, CommandCall)
                    and u.call.facts())) for u in record.units)  # fmt: skip
        if fresh and self.pipe.opaque_pending():
            await self.sync(APPLY)
        elif any(c.sets_facts() for c in calls) and self.pipe.unapplied():
            await self.sync(APPLY)  # getent reads the host as the tasks before it left it
        after_apply = any(
            isinstance(c, CommandCall) and not (record.check and c.check_skips) for c in calls
        ) or (record.ignore_errors and not record.check)
        if record.register:
            level = APPLY if after_apply else GATHER
            self.state.facts[record.register] = Pending(level, record.register)
        for call in calls:  # getent: its facts are known once planned
            for name in call.sets_facts():
                self.state.facts[name] = Pending(GATHER, name)
        self.pipe.add(record)
        if record.failed_when is not None and after_apply:
            await self.sync(APPLY)  # a failure here must stop what comes next
        return record.cursor

    # -- failures --------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        return Snapshot(dict(self.state.facts), dict(self.state.include_vars),
                        set(self.pipe.notified))  # fmt: skip

    def restore(self, snapshot: Snapshot) -> None:
        self.state.facts = dict(snapshot.facts)
        self.state.include_vars = dict(snapshot.include_vars)
        self.pipe.notified = set(snapshot.notified)
        self.state.cache.forget()

    async def fail_new(self, task: Task, cursor: Cursor, snapshot: Snapshot, message: str,
                       result: dict[str, Any]) -> None:  # fmt: skip
        """A task that failed before it was queued (evaluation, assert, fail)."""
        space = VarSpace(self.pr.engine, [{}], task.origin)
        record = Record(task, self.state.next_index, task.display_name, cursor, snapshot)
        self.state.next_index += 1
        record.register = as_str(task.keywords["register"]) if task.keywords.get("register") \
            else None  # fmt: skip
        record.ignore_errors = bool(task.keywords.get("ignore_errors") is True)
        unit = Unit(None, space, status=OpStatus.FAILED, output=message, result=result)
        record.units.append(unit)
        await self.fail_record(record, message)

    async def fail_record(self, record: Record, message: str) -> None:
        """``record`` failed: run what came before it, restore the state, route the failure.
        Always raises Rewind (or HostFailed)."""
        if record in self.pipe.records:
            self.pipe.drop_from(record)
        try:
            await self.pipe.apply()
        except TaskFailedAt as earlier:
            await self.fail_record(earlier.record, earlier.message)
        self.restore(record.snapshot)
        for unit in record.units:
            if unit.status is None:
                unit.status = OpStatus.SKIPPED
        record.finish()
        if record.status not in (OpStatus.FAILED, OpStatus.IGNORED):
            record.status = OpStatus.FAILED
        if record.ignore_errors:
            record.status = OpStatus.IGNORED
        result = record.registered()
        result["failed"] = True
        result.setdefault("msg", message)
        if record.register:
            self.state.facts[record.register] = result
        if not record.output:
            record.output = message
        self.pipe.records.append(record)
        self.pipe.emit_ready()
        if record.ignore_errors:
            raise Rewind(record.cursor)
        failure = Failure(record.task, result, message)
        self.state.facts["ansible_failed_task"] = {"name": record.name,
                                                   "action": record.task.module}  # fmt: skip
        self.state.facts["ansible_failed_result"] = result
        raise Rewind(fail(record.cursor, failure))

    # -- settings ----------------------------------------------------------------------

    def _play_become(self) -> Become | None:
        value = self.play.keyword("become")
        if value is None:
            return self.options.become or self.state.spec.become
        if not as_bool(self.spaces.play_space().render(value), "become"):
            return None
        user = self.play.keyword("become_user") or "root"
        return Become(user=as_str(self.spaces.play_space().render(user)), password=self._password())

    def _password(self) -> Any:
        for source in (self.options.become, self.state.spec.become):
            if source is not None and source.password is not None:
                return source.password
        return None

    def become(self, task: Task, space: VarSpace) -> Become | None:
        kw = task.keywords
        if kw.get("become") is None:
            base = self.options.become or self.state.spec.become
            if base is not None and kw.get("become_user"):
                return Become(user=as_str(space.render(kw["become_user"])),
                              password=self._password())  # fmt: skip
            return base
        if not as_bool(space.render(kw["become"]), "become"):
            return None
        method = as_str(space.render(kw.get("become_method") or "sudo"))
        if method != "sudo":
            raise InputError(f"become_method {method!r} is not supported yet (sudo only)")
        user = as_str(space.render(kw.get("become_user") or "root"))
        return Become(user=user, password=self._password())


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return (str(value),)


def _conds(value: Any) -> tuple[Any, ...] | None:
    if value is None:
        return None
    return tuple(value) if isinstance(value, list) else (value,)


def _label(label: Any, item: Any, space: VarSpace) -> str:
    if label is None:
        return str(item)[:120]
    try:
        return str(space.render(label))[:120]
    except (OpsforgeError, NeedsSync):
        return str(item)[:120]


__all__ += ["as_float", "as_int"]
