"""The YAML inventory shape, from a YAML file or a Python inventory's dict::

    all:
      hosts:
        web01:
          ansible_host: 10.0.0.1
      vars:
        ntp: time.example.com
      children:
        web:
          hosts:
            web[02:10]:
        db: {hosts: {db1: null}}

Top-level keys are groups; each group is a mapping of ``hosts`` (host entry →
its variables), ``vars`` and ``children`` (group name → the same shape).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opsforge.errors import InventoryError
from opsforge.inventory.addresses import AddressError, parse_host_entry
from opsforge.inventory.builder import InventoryBuilder
from opsforge.inventory.model import VarOrigin
from opsforge.inventory.yaml_loader import key_line, node_line, plain

__all__ = ["GroupTreeReader", "describe_type"]

_GROUP_KEYS = ("hosts", "vars", "children")


def describe_type(value: object) -> str:
    """``a string``, ``a list``… for error messages."""
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return f"a {type(value).__name__}"


class GroupTreeReader:
    """Adds a group tree to a builder. ``default_line`` is used where no line is known."""

    def __init__(
        self, builder: InventoryBuilder, display: str, *, default_line: int | None = None
    ) -> None:
        self.builder = builder
        self.display = display
        self.default_line = default_line

    def error(self, message: str, line: int | None) -> InventoryError:
        return InventoryError(message, path=self.display, line=line)

    def line_of(self, mapping: object, key: object) -> int | None:
        return key_line(mapping, key, self.default_line)

    def name(self, key: object, line: int | None, what: str) -> str:
        if isinstance(key, str) and key:
            return key
        if isinstance(key, int) and not isinstance(key, bool):
            return str(key)
        raise self.error(f"{what} must be text, got {describe_type(key)} ({key!r})", line)

    def read(self, data: Any) -> None:
        if data is None:
            self.builder.warn(f"{self.display}: inventory is empty")
            return
        if not isinstance(data, Mapping):
            raise self.error(
                f"an inventory must be a mapping of group names (like 'all:'), "
                f"got {describe_type(data)}",
                node_line(data, self.default_line or 1),
            )
        for key, value in data.items():
            line = self.line_of(data, key)
            self.group(self.name(key, line, "a group name"), value, None, line)

    def group(self, name: str, value: Any, parent: str | None, line: int | None) -> None:
        self.builder.add_group(name, path=self.display, line=line)
        if parent is not None:
            self.builder.add_child(parent, name, path=self.display, line=line)
        if value is None:
            return
        if not isinstance(value, Mapping):
            raise self.error(
                f"group {name!r} must be a mapping with hosts, vars or children, "
                f"got {describe_type(value)}",
                line,
            )
        for key, item in value.items():
            item_line = self.line_of(value, key)
            if key == "hosts":
                self.hosts(name, item, item_line)
            elif key == "vars":
                self.group_vars(name, item, item_line)
            elif key == "children":
                self.children(name, item, item_line)
            else:
                where = f"{self.display}:{item_line}" if item_line else self.display
                self.builder.warn(
                    f"{where}: skipping unexpected key {key!r} in group {name!r} "
                    f"(expected one of {', '.join(_GROUP_KEYS)})"
                )

    def mapping(self, value: Any, what: str, line: int | None) -> Mapping[Any, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.error(f"{what} must be a mapping, got {describe_type(value)}", line)
        return value

    def hosts(self, group: str, value: Any, line: int | None) -> None:
        hosts = self.mapping(value, f"'hosts' of group {group!r}", line)
        for entry, host_vars in hosts.items():
            entry_line = self.line_of(hosts, entry)
            text = self.name(entry, entry_line, "a host name")
            try:
                names, port = parse_host_entry(text)
            except AddressError as exc:
                raise self.error(str(exc), entry_line) from exc
            variables = self.mapping(host_vars, f"variables of host {text!r}", entry_line)
            for name in names:
                self.builder.add_host(name, group)
                scope = f"host {name!r}"
                if port is not None:
                    origin = VarOrigin(scope, path=self.display, line=entry_line)
                    self.builder.set_host_var(name, "ansible_port", port, origin)
                for key, item in variables.items():
                    var_line = self.line_of(variables, key)
                    origin = VarOrigin(scope, path=self.display, line=var_line)
                    var = self.name(key, var_line, "a variable name")
                    self.builder.set_host_var(name, var, plain(item), origin)

    def group_vars(self, group: str, value: Any, line: int | None) -> None:
        variables = self.mapping(value, f"'vars' of group {group!r}", line)
        for key, item in variables.items():
            var_line = self.line_of(variables, key)
            origin = VarOrigin(f"group {group!r}", path=self.display, line=var_line)
            var = self.name(key, var_line, "a variable name")
            self.builder.set_group_var(group, var, plain(item), origin)

    def children(self, group: str, value: Any, line: int | None) -> None:
        children = self.mapping(value, f"'children' of group {group!r}", line)
        for key, item in children.items():
            child_line = self.line_of(children, key)
            child = self.name(key, child_line, "a group name")
            self.group(child, item, group, child_line)
