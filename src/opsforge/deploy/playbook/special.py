"""Tasks the host run treats specially: meta, handlers, includes, setup, ``until``,
``delegate_to: localhost`` and ``run_once``."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from opsforge.connectors.base import Connector
from opsforge.connectors.local import LocalConnector
from opsforge.deploy.events import OpStatus
from opsforge.deploy.playbook.args import as_float, as_int, as_str
from opsforge.deploy.playbook.mod_controller import META_ACTIONS
from opsforge.deploy.playbook.model import Block, Task
from opsforge.deploy.playbook.pipeline import Pipeline, TaskFailedAt
from opsforge.deploy.playbook.record import Record, Snapshot, Unit
from opsforge.deploy.playbook.state import HostState, PlayFacts
from opsforge.deploy.playbook.tasks import Scope, load_tasks_file
from opsforge.deploy.playbook.validate import check_nodes
from opsforge.deploy.playbook.variables import APPLY, GATHER, VarSpace
from opsforge.deploy.playbook.walker import Cursor, push
from opsforge.errors import InputError
from opsforge.types import HostSpec

if TYPE_CHECKING:
    from opsforge.deploy.playbook.host_run import HostRun

__all__ = ["flush_handlers", "meta", "run_delegated", "run_once", "run_until", "special"]

_INCLUDES = frozenset({"include_tasks", "include", "include_role", "import_tasks", "import_role"})


async def meta(self: HostRun, task: Task, cursor: Cursor) -> Cursor:
    action = as_str(task.args.get("_raw_params", "")).strip()
    if action not in META_ACTIONS:
        raise InputError(f"meta: unknown action {action!r}", path=task.origin)
    space = self.spaces.space(task, cursor)
    if task.when and not all(space.truth(c.expr, c.origin) for c in task.when):
        return cursor
    if action == "flush_handlers":
        if not task.keywords.get("implicit"):
            await self.sync(APPLY)  # an explicit flush point: what came before has run
        await flush_handlers(self, cursor)
    elif action in ("end_host", "end_play", "end_batch"):
        await self.sync(APPLY)
        self.ended = True
        if action == "end_play":
            self.pr.ended = True
    return cursor


async def flush_handlers(self: HostRun, cursor: Cursor) -> None:
    """Run the notified handlers, in the order they are defined, each once."""
    for _ in range(100):
        if self.pipe.unknown_notify():
            await self.sync(GATHER)
        if self.pipe.unknown_notify():
            await self.sync(APPLY)
        todo = [h for h in self.play.handlers if _notified(self, h)]
        if not todo:
            return
        for handler in todo:
            self.pipe.notified.discard(handler.name)
            self.pipe.notified.difference_update(handler.listen)
        for handler in todo:
            snapshot = self.snapshot()
            while True:
                try:
                    await self.attempt(handler, cursor, snapshot, handler=handler.name
                                       or handler.module)  # fmt: skip
                    break
                except Exception as exc:  # NeedsSync and failures, like step()
                    from opsforge.deploy.playbook.variables import NeedsSync

                    if not isinstance(exc, NeedsSync):
                        raise
                    await self.sync(exc.level)


def _notified(self: HostRun, handler: Task) -> bool:
    names = self.pipe.notified
    return bool(handler.name and handler.name in names) or any(n in names for n in handler.listen)


async def special(self: HostRun, task: Task, cursor: Cursor, space: VarSpace,
                  snapshot: Snapshot) -> Cursor:  # fmt: skip
    false = next((c for c in task.when if not space.truth(c.expr, c.origin)), None)
    if task.module in ("setup", "gather_facts"):
        if false is None:
            self.spaces.wanted = True
            await self.sync(GATHER)
        record = self.new_record(task, cursor, snapshot, space)
        status = OpStatus.SKIPPED if false is not None else OpStatus.OK
        record.units.append(Unit(None, space, status=status, result={"changed": False}))
        return await self.queue(record, task, space)
    if task.module not in _INCLUDES:
        raise InputError(f"{task.module}: not supported here", path=task.origin)
    if false is not None:
        return cursor
    from opsforge.deploy.playbook.loops import loop_control, loop_items, loop_vars

    items = loop_items(task, space)
    control = loop_control(task, space)
    frames: list[tuple[Block, dict[str, Any]]] = []
    for index, item in enumerate(items if items is not None else [None]):
        item_vars = {} if items is None else loop_vars(control, item, index, items)
        item_space = space if items is None else space.child(item_vars)
        block = task.children or _load_include(self, task, item_space)
        params = {k: v for k, v in task.args.items() if k not in ("file", "_raw_params",
                  "name", "apply", "tasks_from", "vars_from", "defaults_from",
                  "handlers_from", "public", "allow_duplicates",
                  "rolespec_validate")}  # fmt: skip
        frames.append((block, {**item_vars, **item_space.render(params)}))
    for block, variables in reversed(frames):
        cursor = push(cursor, block, variables)
    return cursor


def _load_include(self: HostRun, task: Task, space: VarSpace) -> Block:
    if task.module == "include_role":
        raise InputError("include_role with a templated role name is not supported yet",
                         path=task.origin)  # fmt: skip
    raw = task.args.get("file", task.args.get("_raw_params"))
    name = as_str(space.render(raw, task.origin), "file")
    path = task.origin.rpartition(":")[0]
    scope = Scope(path=path, secrets=self.options.secrets, playbook_dir=self.pr.playbook_dir,
                  keywords={k: v for k, v in task.keywords.items()},
                  vars=task.vars, role=task.role)  # fmt: skip
    nodes = load_tasks_file(name, scope, task.origin)
    check_nodes(nodes, self.pr.engine, self.pr.playbook_dir)
    return Block(tasks=nodes, origin=task.origin)


# -- tasks that run alone -------------------------------------------------------------


async def _alone(self: HostRun, record: Record, pipe: Pipeline) -> None:
    """Plan and apply one record by itself (nothing else pending)."""
    pipe.records = [record]
    emit, pipe.emit = pipe.emit, lambda event: None
    try:
        await pipe.apply()
    except TaskFailedAt:
        pass
    finally:
        pipe.records, pipe.emit = [], emit


async def run_until(self: HostRun, record: Record, space: VarSpace) -> None:
    await self.sync(APPLY)
    task = record.task
    until = task.keywords["until"]
    retries = as_int(space.render(task.keywords.get("retries", 3)), "retries")
    delay = as_float(space.render(task.keywords.get("delay", 5)), "delay")
    ok = False
    for attempt in range(1, max(retries, 0) + 2):
        for unit in record.units:
            if unit.call is not None:
                self.state.cache.drop(unit.call.facts())
                unit.change, unit.status, unit.result, unit.applied = None, None, None, False
        record.status, record.notified = None, False
        await _alone(self, record, self.pipe)
        result = record.registered()
        result["attempts"] = attempt
        check = space.child({record.register: result} if record.register else result)
        conds = until if isinstance(until, list) else [until]
        if not result.get("failed") and all(check.truth(c, task.origin) for c in conds):
            ok = True
            break
        if attempt <= retries:
            await asyncio.sleep(delay)
    if record.register:
        self.state.facts[record.register] = result
    if not ok:
        record.units[-1].status = OpStatus.FAILED
        await self.fail_record(record, f"Retries exceeded ({attempt} attempts): "
                                       f"{record.output[-500:]}".rstrip(": "))  # fmt: skip
    self.pipe.add(record)


async def run_delegated(self: HostRun, record: Record, target: str) -> None:
    """The task on ``target`` (the controller for localhost, else that inventory host's
    pooled connection) with this host's variables, as Ansible delegates."""
    await self.sync(APPLY)
    local = target in ("localhost", "127.0.0.1") and target not in self.pr.states
    if local:
        conn: Connector = LocalConnector(HostSpec(name="localhost", connector="local"))
        await conn.connect()
    elif self.pr.connect is None:
        raise InputError(f"delegate_to: no connection to {target!r} in this run")
    else:
        conn = await self.pr.connect(target)
    try:
        state = HostState(target, conn.host, (), {}, PlayFacts(target),
                          facts=self.state.facts)  # fmt: skip
        pipe = Pipeline(state, conn, self.pr.engine, lambda event: None,
                        want_system=lambda: False, gather_become=None)  # fmt: skip
        await _alone(self, record, pipe)
    finally:
        if local:
            await conn.close()
    if record.register:
        self.state.facts[record.register] = record.registered()
    if record.status == OpStatus.FAILED:
        await self.fail_record(record, record.output or "failed")
    self.pipe.notified.update(pipe.notified)
    self.pipe.add(record)


async def run_once(self: HostRun, record: Record) -> None:
    key = id(record.task)
    future = self.pr.run_once.get(key)
    if future is None:
        future = asyncio.get_running_loop().create_future()
        self.pr.run_once[key] = future
        try:
            if any(u.call is not None for u in record.units):
                await self.sync(APPLY)
                await _alone(self, record, self.pipe)
        finally:
            if not future.done():
                future.set_result(record)
        if record.register:
            self.state.facts[record.register] = record.registered()
        if record.status == OpStatus.FAILED:
            await self.fail_record(record, record.output or "failed")
        self.pipe.add(record)
        return
    done: Record = await asyncio.shield(future)
    copy = replace(record, units=list(done.units), status=done.status, output=done.output,
                   reason=done.reason)  # fmt: skip
    facts = {k: v for u in done.units for k, v in (u.result or {}).get("ansible_facts",
             {}).items()}  # fmt: skip
    self.state.facts.update(facts)
    if copy.register:
        self.state.facts[copy.register] = copy.registered()
    if copy.status == OpStatus.FAILED:
        await self.fail_record(copy, copy.output or "failed")
    self.pipe.add(copy)
