"""Modules that run on the controller: debug, set_fact, assert, fail, include_vars.

Each returns what the task produced (a result, the text to show) or raises
:class:`TaskFailure`; the host run records it like any task.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opsforge.deploy.playbook.args import as_bool, as_str
from opsforge.deploy.playbook.model import Task
from opsforge.deploy.playbook.variables import VarSpace
from opsforge.deploy.playbook.yaml_lines import load_file
from opsforge.engine.events import to_jsonable
from opsforge.errors import InputError
from opsforge.vault import VaultSecrets

__all__ = ["Produced", "TaskFailure", "run_controller"]


class TaskFailure(Exception):
    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.message = message
        self.result = result


@dataclass
class Produced:
    result: dict[str, Any]
    output: str = ""
    facts: dict[str, Any] = field(default_factory=dict)  # set_fact
    include_vars: dict[str, Any] = field(default_factory=dict)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(to_jsonable(value), indent=2, sort_keys=False, default=str)


def run_controller(
    task: Task, space: VarSpace, secrets: VaultSecrets, search_dirs: list[str]
) -> Produced:
    """Run one controller module for one loop item (``space`` has the item)."""
    module = task.module
    if module == "debug":
        return _debug(task, space)
    if module == "set_fact":
        values = space.render({k: v for k, v in task.args.items() if k != "cacheable"},
                              task.origin)  # fmt: skip
        for name in values:
            if not isinstance(name, str) or not name.isidentifier():
                raise InputError(f"set_fact: '{name}' is not a valid variable name")
        return Produced({"changed": False, "ansible_facts": values}, facts=values)
    if module == "assert":
        return _assert(task, space)
    if module == "fail":
        msg = space.render(task.args.get("msg", "Failed as requested from task"), task.origin)
        raise TaskFailure(_show(msg), {"changed": False, "failed": True, "msg": msg})
    if module == "include_vars":
        return _include_vars(task, space, secrets, search_dirs)
    raise InputError(f"{module}: not a controller module")


def _debug(task: Task, space: VarSpace) -> Produced:
    verbosity = space.render(task.args.get("verbosity", 0), task.origin)
    if int(verbosity or 0) > 0:
        return Produced({"changed": False, "skipped_reason": "verbosity threshold not met"})
    if "var" in task.args:
        name = task.args["var"]
        if not isinstance(name, str):
            raise InputError("debug: var must be a variable name or expression")
        try:
            value = space.evaluate(name, task.origin)
        except InputError as exc:
            if "undefined" not in str(exc):
                raise
            value = "VARIABLE IS NOT DEFINED!"
        shown = json.dumps(to_jsonable(value), indent=2, default=str)
        return Produced({"changed": False, name: value}, output=f"{name}: {shown}")
    msg = space.render(task.args.get("msg", "Hello world!"), task.origin)
    return Produced({"changed": False, "msg": msg}, output=_show(msg))


def _assert(task: Task, space: VarSpace) -> Produced:
    that = task.args["that"]
    conditions = that if isinstance(that, list) else [that]
    quiet = as_bool(space.render(task.args.get("quiet"), task.origin), "quiet")
    for condition in conditions:
        if not space.truth(condition, task.origin):
            msg = space.render(task.args.get("fail_msg", "Assertion failed"), task.origin)
            result = {"changed": False, "failed": True, "assertion": condition,
                      "evaluated_to": False, "msg": msg}  # fmt: skip
            raise TaskFailure(f"{_show(msg)} (assertion: {condition})", result)
    msg = space.render(task.args.get("success_msg", "All assertions passed"), task.origin)
    return Produced({"changed": False, "msg": msg}, output="" if quiet else _show(msg))


def _include_vars(
    task: Task, space: VarSpace, secrets: VaultSecrets, search_dirs: list[str]
) -> Produced:
    raw = task.args.get("file", task.args.get("_raw_params"))
    if raw is None:
        raise InputError("include_vars: name the file")
    name = as_str(space.render(raw, task.origin), "file")
    path = _find_vars_file(name, search_dirs)
    data = load_file(path, secrets)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise InputError(f"include_vars: {path} must hold a mapping of variables")
    values: dict[str, Any] = dict(data)
    if task.args.get("name"):
        values = {as_str(space.render(task.args["name"]), "name"): values}
    result = {"changed": False, "ansible_facts": values, "ansible_included_var_files": [path]}
    return Produced(result, include_vars=values)


def _find_vars_file(name: str, search_dirs: list[str]) -> str:
    expanded = os.path.expanduser(name)
    if os.path.isabs(expanded):
        if os.path.isfile(expanded):
            return expanded
        raise InputError(f"include_vars: {name!r} not found")
    tried = []
    for base in search_dirs:
        for candidate in (os.path.join(base, "vars", expanded), os.path.join(base, expanded)):
            tried.append(candidate)
            if os.path.isfile(candidate):
                return os.path.normpath(candidate)
    raise InputError(f"include_vars: {name!r} not found (searched {', '.join(tried)})")
