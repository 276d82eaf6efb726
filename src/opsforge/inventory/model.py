"""The inventory's values: where a variable came from, a host, a group."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opsforge.inventory.hostspec import build_spec
from opsforge.types import HostSpec

__all__ = ["Assignment", "Group", "Host", "VarOrigin"]


@dataclass(frozen=True, slots=True)
class VarOrigin:
    """Where one value was set: the scope (``group 'web'``, ``host 'web01'``) and the place.

    ``path``/``line`` point into a file when there is one; ``source`` names a
    place that is not a file (a host list given on the command line).
    """

    scope: str
    path: str | None = None
    line: int | None = None
    source: str | None = None

    @property
    def location(self) -> str:
        if self.path is not None:
            return f"{self.path}:{self.line}" if self.line is not None else self.path
        return self.source or "<unknown>"

    def __str__(self) -> str:
        return f"{self.scope} in {self.location}"


@dataclass(frozen=True, slots=True)
class Assignment:
    """One value given to one variable, and where."""

    value: Any
    origin: VarOrigin


@dataclass(frozen=True, eq=False)
class Group:
    """A group as the inventory defines it.

    ``hosts`` are the hosts placed in this group directly; ``children`` and
    ``parents`` are group names. ``vars`` are the group's own variables (inventory
    file and ``group_vars/``), not merged with other groups.
    """

    name: str
    hosts: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    vars: dict[str, Any] = field(default_factory=dict)
    depth: int = 0
    priority: int = 1


@dataclass(frozen=True, eq=False)
class Host:
    """One inventory host with its merged variables.

    ``groups`` holds every group that contains the host, directly or through
    children, ``all`` included, from lowest to highest variable precedence.
    ``vars`` is the merged result; :meth:`var_sources` tells how it came about.
    """

    name: str
    groups: tuple[str, ...] = ()
    vars: dict[str, Any] = field(default_factory=dict)
    history: Mapping[str, tuple[Assignment, ...]] = field(default_factory=dict, repr=False)
    #: For each variable, the precedence rank of its effective value (higher wins).
    ranks: Mapping[str, int] = field(default_factory=dict, repr=False)

    def var_sources(self, name: str) -> list[tuple[Any, VarOrigin]]:
        """Every value ``name`` was given for this host, lowest precedence first.

        The last entry is the one in :attr:`vars`. Empty when the variable is unset.
        """
        return [(item.value, item.origin) for item in self.history.get(name, ())]

    def origin(self, name: str) -> VarOrigin | None:
        """Where the effective value of ``name`` was set (None: not set)."""
        assignments = self.history.get(name)
        return assignments[-1].origin if assignments else None

    def spec(self) -> HostSpec:
        """Connection settings from the ``ansible_*`` / ``opsforge_*`` variables.

        Raises :class:`~opsforge.errors.InventoryError` (with the file and line that
        set it) for a value that cannot be used, such as a port that is not a number.
        """
        return build_spec(self.name, self.vars, self.origin, self.ranks)
