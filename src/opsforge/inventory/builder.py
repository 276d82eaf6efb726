"""Collects hosts, groups and variables from every source, then resolves precedence.

Sources (INI, YAML, Python, host lists, ``group_vars``/``host_vars`` files) only
call the ``add_*``/``set_*`` methods; :meth:`InventoryBuilder.build` does what
Ansible's inventory reconciliation does:

* every group without a parent becomes a child of ``all``; hosts in no group
  other than ``all`` go to ``ungrouped``;
* a group's depth is its longest path from ``all``;
* a host's variables merge, lowest precedence first: inventory-file vars of
  ``all``, inventory-file vars of its other groups, ``group_vars/all``,
  ``group_vars/<group>``, inventory-file host vars, ``host_vars/<host>``.
  Groups within a layer are ordered by depth, ``ansible_group_priority``, name.
  Within one layer and entity, the value given last (later source) wins.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from opsforge.errors import InventoryError
from opsforge.inventory.hostspec import SECRET_VARS
from opsforge.inventory.inventory import Inventory
from opsforge.inventory.model import Assignment, Group, Host, VarOrigin
from opsforge.types import Secret

__all__ = ["InventoryBuilder", "Layer"]

Layer = Literal["inventory", "file"]
_VarTable = dict[str, list[Assignment]]
_PRIORITY_VAR = "ansible_group_priority"


@dataclass
class _GroupRecord:
    name: str
    hosts: dict[str, None] = field(default_factory=dict)
    children: dict[str, None] = field(default_factory=dict)
    parents: dict[str, None] = field(default_factory=dict)
    inventory_vars: _VarTable = field(default_factory=dict)
    file_vars: _VarTable = field(default_factory=dict)
    priority: int = 1


@dataclass
class _HostRecord:
    name: str
    groups: dict[str, None] = field(default_factory=dict)
    inventory_vars: _VarTable = field(default_factory=dict)
    file_vars: _VarTable = field(default_factory=dict)


def _table(record: _GroupRecord | _HostRecord, layer: Layer) -> _VarTable:
    return record.inventory_vars if layer == "inventory" else record.file_vars


class InventoryBuilder:
    """Mutable collection of everything the sources said, in the order they said it."""

    def __init__(self) -> None:
        self._groups: dict[str, _GroupRecord] = {}
        self._hosts: dict[str, _HostRecord] = {}
        self.warnings: list[str] = []
        self.add_group("all")
        self.add_group("ungrouped")

    # -- what sources call --------------------------------------------------------

    def has_group(self, name: str) -> bool:
        return name in self._groups

    def has_host(self, name: str) -> bool:
        return name in self._hosts

    @property
    def group_names(self) -> list[str]:
        return list(self._groups)

    @property
    def host_names(self) -> list[str]:
        return list(self._hosts)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def add_group(self, name: str, *, path: str | None = None, line: int | None = None) -> None:
        if not name or name != name.strip():
            raise InventoryError(f"invalid group name {name!r}", path=path, line=line)
        if name not in self._groups:
            self._groups[name] = _GroupRecord(name)

    def add_child(
        self, parent: str, child: str, *, path: str | None = None, line: int | None = None
    ) -> None:
        self.add_group(parent, path=path, line=line)
        self.add_group(child, path=path, line=line)
        if child == "all":
            raise InventoryError("group 'all' cannot be a child group", path=path, line=line)
        if parent == child or parent in self._descendants(child):
            raise InventoryError(
                f"making {child!r} a child of {parent!r} creates a loop of groups",
                path=path,
                line=line,
            )
        self._groups[parent].children[child] = None
        self._groups[child].parents[parent] = None

    def add_host(self, name: str, group: str | None = None) -> None:
        record = self._hosts.get(name)
        if record is None:
            record = self._hosts[name] = _HostRecord(name)
        if group is not None:
            self.add_group(group)
            self._groups[group].hosts[name] = None
            record.groups[group] = None

    def set_group_var(
        self, group: str, key: str, value: Any, origin: VarOrigin, layer: Layer = "inventory"
    ) -> None:
        self.add_group(group, path=origin.path, line=origin.line)
        record = self._groups[group]
        if key == _PRIORITY_VAR and layer == "inventory":
            record.priority = _priority(value, origin)
        _record(_table(record, layer), key, value, origin)

    def set_host_var(
        self, host: str, key: str, value: Any, origin: VarOrigin, layer: Layer = "inventory"
    ) -> None:
        self.add_host(host)
        _record(_table(self._hosts[host], layer), key, value, origin)

    # -- resolution ---------------------------------------------------------------

    def _descendants(self, name: str) -> set[str]:
        seen: set[str] = set()
        stack = [name]
        while stack:
            for child in self._groups[stack.pop()].children:
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return seen

    def _reconcile(self) -> None:
        """Attach parentless groups to ``all`` and fill ``ungrouped`` like Ansible."""
        all_group, ungrouped = self._groups["all"], self._groups["ungrouped"]
        for name, record in self._groups.items():
            if name != "all" and not record.parents:
                record.parents["all"] = None
                all_group.children[name] = None
        for name, host in self._hosts.items():
            if set(host.groups) - {"all", "ungrouped"}:
                ungrouped.hosts.pop(name, None)
                host.groups.pop("ungrouped", None)
            else:
                ungrouped.hosts[name] = None
                host.groups["ungrouped"] = None
            all_group.hosts.pop(name, None)
            host.groups.pop("all", None)
        for name in self._hosts:
            if name in self._groups:
                self.warn(f"{name!r} is both a host and a group name; patterns select the group")

    def _depths(self) -> dict[str, int]:
        """Longest distance from ``all`` (Kahn's order over the group DAG)."""
        depth = dict.fromkeys(self._groups, 0)
        pending = {name: len(record.parents) for name, record in self._groups.items()}
        queue = deque(["all"])
        while queue:
            name = queue.popleft()
            for child in self._groups[name].children:
                depth[child] = max(depth[child], depth[name] + 1)
                pending[child] -= 1
                if pending[child] == 0:
                    queue.append(child)
        return depth

    def _host_groups(self, depth: dict[str, int]) -> dict[str, tuple[str, ...]]:
        """Every group containing each host (through children too), in precedence order."""
        ancestors: dict[str, set[str]] = {}

        def up(group: str) -> set[str]:
            found = ancestors.get(group)
            if found is None:
                found = {group}
                stack = list(self._groups[group].parents)
                while stack:
                    parent = stack.pop()
                    if parent not in found:
                        found.add(parent)
                        stack.extend(self._groups[parent].parents)
                ancestors[group] = found
            return found

        def order(name: str) -> tuple[int, int, str]:
            return depth[name], self._groups[name].priority, name

        result: dict[str, tuple[str, ...]] = {}
        for name, host in self._hosts.items():
            member_of: set[str] = {"all"}
            for group in host.groups:
                member_of |= up(group)
            result[name] = tuple(sorted(member_of, key=order))
        return result

    def _group_layers(self, groups: tuple[str, ...]) -> list[_VarTable]:
        others = [self._groups[name] for name in groups if name != "all"]
        all_group = self._groups["all"]
        return [
            all_group.inventory_vars,
            *(record.inventory_vars for record in others),
            all_group.file_vars,
            *(record.file_vars for record in others),
        ]

    def build(self, *, cwd: Path, sources: tuple[str, ...]) -> Inventory:
        """Resolve everything into an immutable :class:`Inventory`."""
        self._reconcile()
        depth = self._depths()
        host_groups = self._host_groups(depth)
        shared: dict[tuple[str, ...], list[_VarTable]] = {}
        hosts: dict[str, Host] = {}
        for name, record in self._hosts.items():
            groups = host_groups[name]
            layers = shared.get(groups)
            if layers is None:
                layers = shared[groups] = self._group_layers(groups)
            hosts[name] = _make_host(
                name, groups, [*layers, record.inventory_vars, record.file_vars]
            )
        groups_out = {
            name: Group(
                name=name,
                hosts=tuple(record.hosts),
                children=tuple(record.children),
                parents=tuple(record.parents),
                vars={
                    key: items[-1].value
                    for key, items in _merge([record.inventory_vars, record.file_vars])[0].items()
                },
                depth=depth[name],
                priority=record.priority,
            )
            for name, record in self._groups.items()
        }
        return Inventory(hosts, groups_out, warnings=tuple(self.warnings), cwd=cwd, sources=sources)


def _merge(layers: list[_VarTable]) -> tuple[dict[str, list[Assignment]], dict[str, int]]:
    """Each variable's assignments in precedence order, and the layer its winner came from."""
    merged: dict[str, list[Assignment]] = {}
    ranks: dict[str, int] = {}
    for index, table in enumerate(layers):
        for key, items in table.items():
            merged.setdefault(key, []).extend(items)
            ranks[key] = index
    return merged, ranks


def _make_host(name: str, groups: tuple[str, ...], layers: list[_VarTable]) -> Host:
    history, ranks = _merge(layers)
    return Host(
        name=name,
        groups=groups,
        vars={key: items[-1].value for key, items in history.items()},
        history={key: tuple(items) for key, items in history.items()},
        ranks=ranks,
    )


def _record(table: _VarTable, key: str, value: Any, origin: VarOrigin) -> None:
    if key in SECRET_VARS and value is not None and not isinstance(value, Secret):
        value = Secret(str(value))
    table.setdefault(key, []).append(Assignment(value, origin))


def _priority(value: Any, origin: VarOrigin) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise InventoryError(
        f"{_PRIORITY_VAR} must be a whole number, got {value!r}",
        path=origin.path,
        line=origin.line,
    )
