"""The operation contract: desired state + facts -> a Change (actions and a diff) or a no-op.

An operation is a frozen dataclass. ``facts()`` names what it needs to know about
the host; ``plan()`` is a pure function of those facts (no I/O) returning a
:class:`Change`: the actions that bring the host to the desired state, the
human-readable diff of what would change, or no actions and the reason why.
Check mode is the plan without the apply.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from opsforge.deploy.commands import Action
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.types import Secret

__all__ = ["Change", "DiffItem", "Operation", "PlanEnv", "TemplateRenderer"]


@dataclass(frozen=True, slots=True)
class DiffItem:
    """One thing that changes. ``content`` items carry whole texts (rendered as a unified
    diff); the others a short before -> after (mode, owner, state, version)."""

    label: str  # what: a path, "mode", "state", a package name
    before: str | None  # None: did not exist
    after: str | None  # None: will not exist
    content: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    """What an operation will do on one host."""

    actions: tuple[Action, ...] = ()
    diff: tuple[DiffItem, ...] = ()
    reason: str = ""  # for a no-op: why nothing needs doing ("already a directory, mode 0755")
    changed: bool = True  # False: actions run but report "ok" (read-only commands, changed=False)
    #: facts as they will be once this change is applied: later operations of the same
    #: host plan against these (twenty ``line`` edits of one file each see the previous)
    facts_after: tuple[tuple[Fact[Any], Any], ...] = ()

    @property
    def is_noop(self) -> bool:
        return not self.actions

    @property
    def reports_changed(self) -> bool:
        return bool(self.actions) and self.changed

    @classmethod
    def noop(cls, reason: str) -> Change:
        return cls(reason=reason, changed=False)


class TemplateRenderer(Protocol):
    """Renders a Jinja2 template file (errors name the template's file and line)."""

    def render_file(self, path: str, variables: Mapping[str, Any]) -> str: ...

    def render_string(self, text: str, variables: Mapping[str, Any], *, origin: str) -> str: ...

    def referenced_names(self, path: str) -> frozenset[str]: ...


@dataclass(frozen=True)
class PlanEnv:
    """What ``plan`` may read besides facts: the host's variables, where the deploy lives."""

    host: str
    variables: Mapping[str, Any]
    base_dir: str  # the deploy's directory: relative src/template paths resolve here
    templates: TemplateRenderer
    secrets: tuple[Secret, ...] = field(default=())


class Operation(abc.ABC):
    """Subclass as a frozen dataclass; see the module docstring."""

    kind: ClassVar[str]  # "files.directory"

    @abc.abstractmethod
    def describe(self) -> str:
        """One line for people: ``directory /srv/app``."""

    def facts(self) -> tuple[Fact[Any], ...]:
        """The facts ``plan`` reads (gathered for every operation of a host at once)."""
        return ()

    def wants_system_facts(self, templates: TemplateRenderer) -> bool:
        """Whether ``plan`` reads the host's system facts (``ansible_facts`` in a template)."""
        return False

    @abc.abstractmethod
    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        """Desired state + facts -> Change. Pure: no I/O beyond reading local source files."""
