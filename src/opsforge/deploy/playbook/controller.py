"""Modules that run on the controller: debug, set_fact, assert, fail, include_vars.

Each returns what the task produced (a result, the text to show) or raises
:class:`TaskFailure`; the host run records it like any task.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
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
    if task.args.get("dir") is not None:
        if raw is not None:
            raise InputError("include_vars: file and dir exclude each other")
        paths = _vars_dir_files(task, space, search_dirs)
    elif raw is None:
        raise InputError("include_vars: name the file (or a dir)")
    else:
        paths = [_find_vars_file(as_str(space.render(raw, task.origin), "file"), search_dirs)]
    values: dict[str, Any] = {}
    for path in paths:
        data = load_file(path, secrets)
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise InputError(f"include_vars: {path} must hold a mapping of variables")
        values.update(data)  # later files win, as Ansible's default hash_behaviour=replace
    if task.args.get("name"):
        values = {as_str(space.render(task.args["name"]), "name"): values}
    result = {"changed": False, "ansible_facts": values, "ansible_included_var_files": paths}
    return Produced(result, include_vars=values)


def _vars_dir_files(task: Task, space: VarSpace, search_dirs: list[str]) -> list[str]:
    """The files of ``dir`` Ansible would load: sorted, walked to ``depth`` (0: all),
    with one of ``extensions``, matching ``files_matching``, not in ``ignore_files``."""
    args = {k: space.render(v, task.origin) for k, v in task.args.items()}
    name = os.path.expanduser(as_str(args["dir"], "dir"))
    candidates = (
        [name]
        if os.path.isabs(name)
        else [os.path.join(b, n) for b in search_dirs for n in (os.path.join("vars", name), name)]
    )
    folder = next((c for c in candidates if os.path.isdir(c)), None)
    if folder is None:
        raise InputError(f"include_vars: directory {name!r} not found "
                         f"(searched {', '.join(candidates)})")  # fmt: skip
    depth = int(args.get("depth") or 0)
    extensions = [str(e).lstrip(".") for e in (args.get("extensions") or ["yaml", "yml", "json"])]
    matching = re.compile(str(args["files_matching"])) if args.get("files_matching") else None
    ignored = [str(i) for i in (args.get("ignore_files") or [])]
    strict = not as_bool(args.get("ignore_unknown_extensions"), "ignore_unknown_extensions")
    found = []
    base = folder.rstrip("/").count("/")
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        if depth and root.rstrip("/").count("/") - base + 1 >= depth:
            dirs.clear()
        for file in sorted(files):
            if any(fnmatch.fnmatch(file, pattern) for pattern in ignored):
                continue
            if matching is not None and not matching.search(file):
                continue
            if file.rpartition(".")[2] not in extensions:
                if strict:
                    where = os.path.join(root, file)
                    raise InputError(f"include_vars: {where} has none of the extensions "
                                     f"{extensions} (ignore_unknown_extensions)")  # fmt: skip
                continue
            found.append(os.path.normpath(os.path.join(root, file)))
    return found


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
