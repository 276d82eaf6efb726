"""Checks before anything runs: every template, expression, file, handler name and
setting a playbook names statically. The first problem is an error with ``file:line``."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from opsforge.deploy.playbook.mod_async import ASYNC_MODULES
from opsforge.deploy.playbook.mod_controller import META_ACTIONS
from opsforge.deploy.playbook.model import Block, Node, Playbook, Task
from opsforge.deploy.playbook.modules import canonical_name
from opsforge.deploy.playbook.tasks import error_at
from opsforge.deploy.playbook.yaml_lines import Unsafe
from opsforge.errors import InputError
from opsforge.templating import TemplateEngine

__all__ = ["check_nodes", "check_playbook", "walk"]

_EXPRESSIONS = ("changed_when", "failed_when", "until")
_FILE_ARGS = {"copy": ("src", "files"), "script": ("_raw_params", "files"),
              "unarchive": ("src", "files"), "template": ("src", "templates")}  # fmt: skip


def walk(nodes: Iterable[Node]) -> Iterator[Task]:
    """Every task under ``nodes`` (blocks and static includes opened)."""
    for node in nodes:
        if isinstance(node, Block):
            yield from walk(node.tasks)
            yield from walk(node.rescue)
            yield from walk(node.always)
        else:
            yield node
            if node.children is not None:
                yield from walk((node.children,))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, Unsafe):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _check_text(engine: TemplateEngine, value: Any, origin: str) -> None:
    for text in _strings(value):
        engine.check_string(text, origin=origin)


def _check_expr(engine: TemplateEngine, value: Any, origin: str) -> None:
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and not isinstance(item, Unsafe):
            engine.check_string(item, origin=origin, expression=True)


def _literal(value: Any) -> str | None:
    return value if isinstance(value, str) and "{{" not in value and "{%" not in value else None


def _find(name: str, subdir: str, task: Task, playbook_dir: str) -> str | None:
    expanded = os.path.expanduser(name)
    if os.path.isabs(expanded):
        return expanded if os.path.exists(expanded) else None
    bases = [task.role.path] if task.role is not None else [task.base_dir]
    bases.append(playbook_dir)
    for base in bases:
        for candidate in (os.path.join(base, subdir, expanded), os.path.join(base, expanded)):
            if os.path.exists(candidate):
                return candidate
    return None


def check_task(task: Task, engine: TemplateEngine, playbook_dir: str) -> None:
    origin = task.origin
    _check_text(engine, task.name, origin)
    for cond in task.when:
        _check_expr(engine, cond.expr, cond.origin)
    kw = task.keywords
    for key, value in kw.items():
        if key in _EXPRESSIONS:
            _check_expr(engine, value, origin)
        elif key not in ("register", "implicit"):
            _check_text(engine, value, origin)
    for layer in task.vars:
        _check_text(engine, layer, origin)
    register = kw.get("register")
    if register is not None and (not isinstance(register, str) or not register.isidentifier()):
        raise error_at(f"register: {register!r} is not a valid variable name", origin)
    if task.module == "assert":
        _check_expr(engine, task.args.get("that"), origin)
        _check_text(engine, {k: v for k, v in task.args.items() if k != "that"}, origin)
    elif task.module == "debug" and isinstance(task.args.get("var"), str):
        _check_expr(engine, task.args["var"], origin)
        _check_text(engine, task.args.get("msg"), origin)
    else:
        _check_text(engine, task.args, origin)
    if task.module == "meta":
        action = str(task.args.get("_raw_params", "")).strip()
        if action not in META_ACTIONS:
            raise error_at(f"meta: unknown or unsupported action {action!r}", origin)
    method = _literal(kw.get("become_method"))
    if method is not None and method != "sudo":
        raise error_at(f"become_method {method!r} is not supported yet (sudo only)", origin)
    if kw.get("async") is not None and canonical_name(task.module) not in ASYNC_MODULES:
        raise error_at("async works on command, shell, script and raw tasks", origin)
    _check_files(task, engine, playbook_dir)


def _check_files(task: Task, engine: TemplateEngine, playbook_dir: str) -> None:
    spec = _FILE_ARGS.get(task.module)
    if spec is None:
        return
    key, subdir = spec
    if task.module == "unarchive" and (
        task.args.get("remote_src") or task.args.get("copy") in (False, "no", "false")
    ):
        return  # fmt: skip
    if task.module == "copy" and task.args.get("remote_src"):
        return
    raw = task.args.get(key)
    name = _literal(raw)
    if task.module == "script" and name is not None:
        name = name.split()[0] if name.split() else None
    if name is None or "://" in name:
        return
    found = _find(name, subdir, task, playbook_dir)
    if found is None:
        what = {"template": "template", "copy": "copy src", "script": "script",
                "unarchive": "unarchive src"}[task.module]  # fmt: skip
        raise error_at(f"{what} {name!r} not found", task.origin)
    if task.module == "template":
        try:
            engine.check_file(os.path.abspath(found))
        except InputError as exc:
            raise exc from None


def check_nodes(nodes: Iterable[Node], engine: TemplateEngine, playbook_dir: str) -> None:
    for task in walk(nodes):
        check_task(task, engine, playbook_dir)


def check_playbook(playbook: Playbook, engine: TemplateEngine) -> None:
    """Everything that can be checked before running; raises the first InputError."""
    for play in playbook.plays:
        _check_text(engine, play.hosts, play.origin)
        _check_text(engine, play.vars, play.origin)
        check_nodes((play.body,), engine, play.base_dir)
        names: set[str] = set()
        for handler in play.handlers:
            check_task(handler, engine, play.base_dir)
            names.add(handler.name)
            names.update(handler.listen)
        for task in [*walk((play.body,)), *play.handlers]:
            notify = task.keywords.get("notify")
            for name in notify if isinstance(notify, list) else [notify]:
                if isinstance(name, str) and "{{" not in name and name not in names:
                    known = ", ".join(sorted(n for n in names if n)) or "none defined"
                    raise error_at(f"notify: no handler '{name}' in this play (handlers: "
                                   f"{known})", task.origin)  # fmt: skip
