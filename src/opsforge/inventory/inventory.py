"""The loaded inventory: hosts, groups, host selection and printable views."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from opsforge.errors import InventoryError
from opsforge.inventory import render
from opsforge.inventory.model import Group, Host
from opsforge.inventory.patterns import close_names, limit_atoms, select_names

__all__ = ["Inventory"]


class Inventory:
    """Hosts and groups from one or more sources, with variables resolved.

    ``hosts`` keeps inventory order (the order hosts were first seen);
    ``groups`` starts with the implicit ``all`` and ``ungrouped``.
    ``warnings`` lists what Ansible would warn about (unknown keys, name clashes).
    """

    def __init__(
        self,
        hosts: Mapping[str, Host],
        groups: Mapping[str, Group],
        *,
        warnings: Sequence[str] = (),
        cwd: Path | None = None,
        sources: Sequence[str] = (),
    ) -> None:
        self.hosts: Mapping[str, Host] = MappingProxyType(dict(hosts))
        self.groups: Mapping[str, Group] = MappingProxyType(dict(groups))
        self.warnings: tuple[str, ...] = tuple(warnings)
        self.cwd = cwd or Path.cwd()
        self.sources: tuple[str, ...] = tuple(sources)
        self._positions = {name: index for index, name in enumerate(self.hosts)}
        self._host_names = tuple(self.hosts)
        self._group_names = tuple(self.groups)
        self._members: dict[str, frozenset[str]] = {}

    def __repr__(self) -> str:
        return f"<Inventory {len(self.hosts)} hosts, {len(self.groups)} groups>"

    def __len__(self) -> int:
        return len(self.hosts)

    def __iter__(self) -> Iterator[Host]:
        return iter(self.hosts.values())

    # -- the pattern target --------------------------------------------------------

    @property
    def host_names(self) -> Sequence[str]:
        return self._host_names

    @property
    def group_names(self) -> Sequence[str]:
        return self._group_names

    def has_group(self, name: str) -> bool:
        return name in self.groups

    def has_host(self, name: str) -> bool:
        return name in self.hosts

    def host_position(self, host: str) -> int:
        return self._positions[host]

    def group_member_names(self, group: str) -> frozenset[str]:
        """Names of the hosts in ``group`` or any group below it."""
        found = self._members.get(group)
        if found is None:
            if group == "all":
                found = frozenset(self.hosts)
            else:
                names: set[str] = set()
                seen = {group}
                stack = [group]
                while stack:
                    node = self.groups[stack.pop()]
                    names.update(node.hosts)
                    for child in node.children:
                        if child not in seen:
                            seen.add(child)
                            stack.append(child)
                found = frozenset(names)
            self._members[group] = found
        return found

    # -- selection -------------------------------------------------------------------

    def select(self, pattern: str, limit: str | None = None) -> list[Host]:
        """Hosts matching an Ansible host pattern, in inventory order.

        ``limit`` narrows the result further, with the same syntax (like
        ``--limit``); ``@path`` in it reads one pattern per line from a file.
        Raises :class:`~opsforge.errors.InventoryError` for a malformed pattern or
        one naming no known host or group.
        """
        atoms = None
        if limit is not None:
            atoms = limit_atoms(limit, self.cwd, is_host=self.has_host)
        return [self.hosts[name] for name in select_names(self, pattern, atoms)]

    def host(self, name: str) -> Host:
        """The host called ``name``; an unknown name raises with suggestions."""
        found = self.hosts.get(name)
        if found is None:
            raise InventoryError(
                f"no host {name!r} in the inventory{self._hint(name, self._host_names)}"
            )
        return found

    def group_hosts(self, group: str) -> list[Host]:
        """Hosts of a group, its children's included, in inventory order."""
        self._check_group(group)
        names = sorted(self.group_member_names(group), key=self.host_position)
        return [self.hosts[name] for name in names]

    @staticmethod
    def _hint(name: str, names: Sequence[str]) -> str:
        close = close_names(name, names)
        return f"; did you mean: {', '.join(close)}?" if close else ""

    def _check_group(self, group: str) -> None:
        if group not in self.groups:
            hint = self._hint(group, self._group_names)
            raise InventoryError(f"no group {group!r} in the inventory{hint}")

    # -- views for the CLI -------------------------------------------------------------

    def graph(self, group: str = "all") -> str:
        """A tree of groups and hosts like ``ansible-inventory --graph``."""
        self._check_group(group)
        return render.graph(self, group)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data like ``ansible-inventory --list`` (secrets as ``***``)."""
        return render.to_dict(self)

    def describe_host(self, name: str) -> list[tuple[str, Any, str]]:
        """``(variable, value, origin)`` rows for one host; secrets shown as ``***``."""
        return render.describe_host(self, name)
