"""Ansible's INI inventory format.

::

    web01 ansible_host=10.0.0.1          # before any section: ungrouped
    [web]
    web[01:20].example.com ansible_port=2222
    db-[a:f].x:2200 opsforge_user="deploy"
    [web:vars]
    http_port = 8080
    [prod:children]
    web

Values are read like Ansible does: a Python literal when it is one (``8080``,
``True``, ``'quoted'``, ``[1, 2]``), else the text as written. Lines starting
with ``#`` or ``;`` are comments; on host lines, `` #`` starts a comment too.
"""

from __future__ import annotations

import ast
import re
import shlex
import warnings
from dataclasses import dataclass
from typing import Any

from opsforge.errors import InventoryError
from opsforge.inventory.addresses import AddressError, is_bracketed_ipv6, parse_host_entry
from opsforge.inventory.builder import InventoryBuilder
from opsforge.inventory.model import VarOrigin

__all__ = ["parse_ini", "parse_ini_value"]

_SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$")
_GROUP_NAME = re.compile(r"^([^:\]\s]+)\s*(?:[#;].*)?$")
_KINDS = ("hosts", "vars", "children")


def parse_ini_value(text: str) -> Any:
    """A value as Ansible reads it from INI: a Python literal if it is one, else the text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


@dataclass
class _Pending:
    """A group used in ``[g:vars]`` or ``[p:children]`` before being defined."""

    kind: str
    line: int
    section: str


class _IniReader:
    def __init__(self, builder: InventoryBuilder, display: str) -> None:
        self.builder = builder
        self.display = display
        self.line = 0
        self.pending: dict[str, _Pending] = {}

    def error(self, message: str) -> InventoryError:
        return InventoryError(message, path=self.display, line=self.line)

    def origin(self, scope: str) -> VarOrigin:
        return VarOrigin(scope, path=self.display, line=self.line)

    def read(self, text: str) -> None:
        group, kind = "ungrouped", "hosts"
        for self.line, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and not is_bracketed_ipv6(line.split(None, 1)[0]):
                group, kind = self.section(line)
            elif kind == "hosts":
                self.host_line(group, line)
            elif kind == "vars":
                self.var_line(group, line)
            else:
                self.child_line(group, line)
        for name, pending in self.pending.items():
            self.line = pending.line
            if pending.kind == "vars":
                raise self.error(f"section [{name}:vars] is for a group that is never defined")
            raise self.error(
                f"section [{pending.section}:children] includes undefined group {name!r}"
            )

    def section(self, line: str) -> tuple[str, str]:
        match = _SECTION.match(line)
        if not match:
            if "]" not in line:
                raise self.error(f"unbalanced '[' in section header {line!r}")
            raise self.error(
                f"invalid section header {line!r}: expected [group], [group:vars] "
                "or [group:children] without spaces"
            )
        name, kind = match.group(1), match.group(2) or "hosts"
        if kind not in _KINDS:
            raise self.error(
                f"section [{name}:{kind}] has unknown type {kind!r} (expected vars or children)"
            )
        if kind == "vars":
            if not self.builder.has_group(name) and name not in self.pending:
                self.pending[name] = _Pending("vars", self.line, name)
        else:
            self.define(name)
        return name, kind

    def define(self, name: str) -> None:
        self.builder.add_group(name, path=self.display, line=self.line)
        self.pending.pop(name, None)

    def host_line(self, group: str, line: str) -> None:
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError as exc:
            raise self.error(f"cannot split host line: {exc}") from exc
        if not tokens:
            return
        try:
            names, port = parse_host_entry(tokens[0])
        except AddressError as exc:
            raise self.error(str(exc)) from exc
        assignments: list[tuple[str, Any]] = []
        for token in tokens[1:]:
            key, sep, value = token.partition("=")
            if not sep or not key:
                raise self.error(f"expected key=value host variable, got {token!r}")
            assignments.append((key, parse_ini_value(value)))
        for name in names:
            self.builder.add_host(name, group)
            origin = self.origin(f"host {name!r}")
            if port is not None:
                self.builder.set_host_var(name, "ansible_port", port, origin)
            for key, value in assignments:
                self.builder.set_host_var(name, key, value, origin)

    def var_line(self, group: str, line: str) -> None:
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key or any(char.isspace() for char in key):
            raise self.error(f"expected key=value in [{group}:vars], got {line!r}")
        self.builder.set_group_var(
            group, key, parse_ini_value(value.strip()), self.origin(f"group {group!r}")
        )

    def child_line(self, group: str, line: str) -> None:
        match = _GROUP_NAME.match(line)
        if not match:
            raise self.error(f"expected a group name in [{group}:children], got {line!r}")
        child = match.group(1)
        if not self.builder.has_group(child) and child not in self.pending:
            self.pending[child] = _Pending("children", self.line, group)
        self.builder.add_child(group, child, path=self.display, line=self.line)


def parse_ini(text: str, display: str, builder: InventoryBuilder) -> None:
    """Add the hosts, groups and variables of an INI inventory to ``builder``."""
    _IniReader(builder, display).read(text)
