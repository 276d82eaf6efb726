"""Plain-text and plain-data views of an inventory, for the CLI to print.

No terminal library here: the CLI decides colours and where output goes.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opsforge.types import Secret

if TYPE_CHECKING:
    from opsforge.inventory.inventory import Inventory

__all__ = ["describe_host", "graph", "masked", "to_dict"]


def masked(value: Any) -> Any:
    """``value`` made JSON-ready: secrets become ``***``, other odd types their text."""
    if isinstance(value, Secret):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(key): masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [masked(item) for item in value]
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _indent(depth: int) -> str:
    return "  |" * depth + "--" if depth else ""


def graph(inventory: Inventory, group: str = "all") -> str:
    """The tree ``ansible-inventory --graph`` prints: groups, then hosts, sorted by name."""
    lines: list[str] = []
    # (group name, depth); a group reached twice through different parents is drawn twice.
    stack: list[tuple[str, int, bool]] = [(group, 0, True)]
    while stack:
        name, depth, is_group = stack.pop()
        if not is_group:
            lines.append(f"{_indent(depth)}{name}")
            continue
        lines.append(f"{_indent(depth)}@{name}:")
        node = inventory.groups[name]
        hosts = [] if name == "all" else sorted(node.hosts)
        entries = [(child, depth + 1, True) for child in sorted(node.children)]
        entries += [(host, depth + 1, False) for host in hosts]
        stack.extend(reversed(entries))
    return "\n".join(lines)


def to_dict(inventory: Inventory) -> dict[str, Any]:
    """The shape of ``ansible-inventory --list``: groups, then ``_meta.hostvars``."""
    data: dict[str, Any] = {
        "_meta": {"hostvars": {name: masked(host.vars) for name, host in inventory.hosts.items()}}
    }
    for name, group in inventory.groups.items():
        entry: dict[str, Any] = {}
        if group.hosts and name != "all":
            entry["hosts"] = list(group.hosts)
        if group.children:
            entry["children"] = list(group.children)
        if group.vars:
            entry["vars"] = masked(group.vars)
        data[name] = entry
    return data


def describe_host(inventory: Inventory, name: str) -> list[tuple[str, Any, str]]:
    """``(variable, value, origin)`` for every variable of a host, sorted by name."""
    host = inventory.host(name)
    rows = []
    for key in sorted(host.vars):
        origin = host.origin(key)
        rows.append((key, masked(host.vars[key]), str(origin) if origin else ""))
    return rows
