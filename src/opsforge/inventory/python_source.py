"""Dynamic inventories: a ``*.py`` file defining ``inventory()`` (or ``hosts()``).

The function takes no arguments (it may be ``async``) and returns either

* a list of hosts, each a host entry (``"web1"``, ``"web[1:3]:2222"``), a
  ``(name, {vars})`` pair, or a dict with ``name``, optional ``groups`` (a name
  or a list) and optional ``vars``; any other key of the dict is a host variable;
* a dict in the YAML inventory shape (``{"all": {"hosts": ..., "children": ...}}``);
* or the JSON shape of an Ansible inventory script (a dict with ``_meta``).

A file with neither function is read like a pyinfra inventory: every public
module-level list of hosts (names or ``(name, {data})`` pairs) is a group
named after the variable.

User code runs inside an error boundary: whatever it raises becomes an
:class:`~opsforge.errors.InventoryError` naming the file and the failing line.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import types
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from opsforge.errors import InventoryError
from opsforge.inventory.addresses import AddressError, parse_host_entry
from opsforge.inventory.builder import InventoryBuilder
from opsforge.inventory.group_tree import GroupTreeReader, describe_type
from opsforge.inventory.model import VarOrigin
from opsforge.inventory.yaml_loader import read_source

__all__ = ["load_python_inventory"]

_T = TypeVar("_T")
_FUNCTIONS = ("inventory", "hosts")


def _failing_line(exc: BaseException, filename: str) -> int | None:
    line = None
    traceback = exc.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == filename:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _guarded(call: Callable[[], _T], path: Path, display: str, what: str) -> _T:
    """Run user code; any exception (not an interrupt) becomes an InventoryError."""
    try:
        return call()
    except (Exception, SystemExit) as exc:
        line = _failing_line(exc, str(path))
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise InventoryError(f"{what} raised {detail}", path=display, line=line) from exc


@contextmanager
def _importable(path: Path, module: types.ModuleType) -> Iterator[None]:
    """While the file runs: its module is registered and its folder importable."""
    sys.modules[module.__name__] = module
    sys.path.insert(0, str(path.parent))
    try:
        yield
    finally:
        sys.modules.pop(module.__name__, None)
        with suppress(ValueError):
            sys.path.remove(str(path.parent))


async def _wait(awaitable: Awaitable[_T]) -> _T:
    return await awaitable


def _run_awaitable(awaitable: Awaitable[_T]) -> _T:
    """Run an async inventory to completion, in a helper thread if a loop already runs here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_wait(awaitable))
    with ThreadPoolExecutor(1, thread_name_prefix="opsforge-inventory") as pool:
        return pool.submit(asyncio.run, _wait(awaitable)).result()


@dataclass(frozen=True)
class _Outcome:
    """What running the file gave: a function's result, or pyinfra-style group lists."""

    result: Any
    line: int | None
    what: str
    pyinfra_groups: dict[str, list[Any]] | None = None


def _run_file(path: Path, display: str) -> _Outcome:
    text = read_source(path, display)
    try:
        code = compile(text, str(path), "exec")
    except SyntaxError as exc:
        raise InventoryError(f"syntax error: {exc.msg}", path=display, line=exc.lineno) from exc
    except ValueError as exc:
        raise InventoryError(f"cannot compile: {exc}", path=display) from exc
    module = types.ModuleType(f"_opsforge_inventory_{abs(hash(str(path)))}")
    module.__file__ = str(path)
    with _importable(path, module):
        _guarded(lambda: exec(code, module.__dict__), path, display, "loading the inventory")
        name = next((name for name in _FUNCTIONS if name in module.__dict__), None)
        if name is None:
            groups = _pyinfra_groups(module.__dict__)
            if not groups:
                raise InventoryError(
                    "a Python inventory must define a function inventory() or hosts(), "
                    "or module-level lists of hosts (pyinfra style)",
                    path=display,
                )
            return _Outcome(None, None, "pyinfra inventory", pyinfra_groups=groups)
        function = module.__dict__[name]
        line = getattr(getattr(function, "__code__", None), "co_firstlineno", None)
        if not callable(function):
            raise InventoryError(
                f"{name} must be a function, got {describe_type(function)}", path=display
            )
        what = f"{name}()"
        result = _guarded(function, path, display, what)
        if inspect.isawaitable(result):
            awaitable = result
            result = _guarded(lambda: _run_awaitable(awaitable), path, display, what)
        if isinstance(result, Iterable) and not isinstance(result, str | bytes | Mapping):
            iterable = result
            result = _guarded(lambda: list(iterable), path, display, what)
    return _Outcome(result, line, what)


def _is_host(entry: object) -> bool:
    if isinstance(entry, str):
        return True
    return (
        isinstance(entry, tuple)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and isinstance(entry[1], Mapping)
    )


def _pyinfra_groups(namespace: Mapping[str, Any]) -> dict[str, list[Any]]:
    """pyinfra-style groups: public module-level lists/tuples made only of hosts."""
    return {
        name: list(value)
        for name, value in namespace.items()
        if not name.startswith("_")
        and isinstance(value, list | tuple)
        and value
        and all(_is_host(entry) for entry in value)
    }


def _add_entry(
    builder: InventoryBuilder,
    entry: Any,
    index: int,
    display: str,
    what: str,
    line: int | None,
    *,
    group: str | None = None,
) -> None:
    groups: Any = () if group is None else [group]
    variables: Mapping[Any, Any] = {}
    if isinstance(entry, str):
        name = entry
    elif isinstance(entry, tuple | list) and len(entry) == 2 and isinstance(entry[0], str):
        name, variables = entry[0], entry[1] if entry[1] is not None else {}
    elif isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
        name = entry["name"]
        groups = entry.get("groups") or ()
        variables = {k: v for k, v in entry.items() if k not in ("name", "groups", "vars")}
        extra = entry.get("vars") or {}
        if not isinstance(extra, Mapping):
            raise InventoryError(
                f"{what}: 'vars' of host {name!r} must be a dict", path=display, line=line
            )
        variables = {**variables, **extra}
    else:
        raise InventoryError(
            f"{what}: host #{index + 1} must be a name, a (name, vars) pair or a dict with "
            f"'name', got {describe_type(entry)} ({entry!r:.60})",
            path=display,
            line=line,
        )
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(variables, Mapping) or not isinstance(groups, list | tuple):
        raise InventoryError(
            f"{what}: host {name!r} has malformed vars or groups", path=display, line=line
        )
    try:
        names, port = parse_host_entry(name)
    except AddressError as exc:
        raise InventoryError(f"{what}: {exc}", path=display, line=line) from exc
    for host in names:
        origin = VarOrigin(f"host {host!r}", path=display)
        builder.add_host(host)
        for group in groups:
            builder.add_host(host, str(group))
        if port is not None:
            builder.set_host_var(host, "ansible_port", port, origin)
        for key, value in variables.items():
            builder.set_host_var(host, str(key), value, origin)


def _add_script_shape(
    builder: InventoryBuilder, data: Mapping[Any, Any], display: str, what: str, line: int | None
) -> None:
    """The ``--list`` JSON of Ansible inventory scripts: groups with host lists, ``_meta``."""

    def fail(message: str) -> InventoryError:
        return InventoryError(f"{what}: {message}", path=display, line=line)

    for group, body in data.items():
        if group == "_meta":
            continue
        name = str(group)
        builder.add_group(name, path=display, line=line)
        if isinstance(body, list | tuple):
            body = {"hosts": body}
        if not isinstance(body, Mapping):
            raise fail(
                f"group {name!r} must be a list of hosts or a dict, got {describe_type(body)}"
            )
        hosts, children = body.get("hosts") or [], body.get("children") or []
        variables = body.get("vars") or {}
        if not isinstance(hosts, list | tuple) or not isinstance(children, list | tuple):
            raise fail(f"'hosts' and 'children' of group {name!r} must be lists")
        if not isinstance(variables, Mapping):
            raise fail(f"'vars' of group {name!r} must be a dict")
        for host in hosts:
            builder.add_host(str(host), name)
        for child in children:
            builder.add_child(name, str(child), path=display, line=line)
        for key, value in variables.items():
            origin = VarOrigin(f"group {name!r}", path=display)
            builder.set_group_var(name, str(key), value, origin)
    meta = data.get("_meta") or {}
    hostvars = meta.get("hostvars") or {} if isinstance(meta, Mapping) else None
    if not isinstance(hostvars, Mapping):
        raise fail("'_meta' must be a dict with a 'hostvars' dict")
    for host, variables in hostvars.items():
        if not isinstance(variables, Mapping):
            raise fail(f"hostvars of {host!r} must be a dict")
        origin = VarOrigin(f"host {host!r}", path=display)
        for key, value in variables.items():
            builder.set_host_var(str(host), str(key), value, origin)


def load_python_inventory(path: Path, display: str, builder: InventoryBuilder) -> None:
    """Run a Python inventory file and add what it returns to ``builder``."""
    outcome = _run_file(path, display)
    result, line, what = outcome.result, outcome.line, outcome.what
    if outcome.pyinfra_groups is not None:
        for group, entries in outcome.pyinfra_groups.items():
            builder.add_group(group, path=display)
            for index, entry in enumerate(entries):
                _add_entry(builder, entry, index, display, what, line, group=group)
    elif isinstance(result, Mapping):
        if "_meta" in result:
            _add_script_shape(builder, result, display, what, line)
        else:
            GroupTreeReader(builder, display, default_line=line).read(result)
    elif isinstance(result, list):
        for index, entry in enumerate(result):
            _add_entry(builder, entry, index, display, what, line)
    else:
        raise InventoryError(
            f"{what} must return a list of hosts or a dict of groups, got {describe_type(result)}",
            path=display,
            line=line,
        )
