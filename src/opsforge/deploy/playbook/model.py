"""A loaded playbook as data: plays, blocks, tasks, handlers and roles.

Everything a task inherits from its play, role, blocks and imports (``when``,
``tags``, ``vars``, ``become``, ``environment``, ...) is resolved at load time:
a :class:`Task` carries its effective, still untemplated settings, so running it
needs no look back at its parents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Block", "Cond", "Node", "Play", "Playbook", "Role", "Task"]


@dataclass(frozen=True, slots=True)
class Cond:
    """One ``when`` condition and where it was written."""

    expr: Any
    origin: str


@dataclass(frozen=True, eq=False)
class Role:
    """A role as loaded: where it lives, its variables, its tasks and handlers."""

    name: str
    path: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    vars: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def search_paths(self) -> tuple[str, ...]:
        return (self.path,)


@dataclass(frozen=True, eq=False)
class Task:
    """One task (or handler) with its effective settings.

    ``module`` is the short name (``copy``), ``args`` the raw module arguments.
    ``keywords`` holds the effective task keywords (``register``, ``become``,
    ``loop``, ...; inherited ones merged in). ``vars`` are the block and task
    variable layers, outermost first. ``children`` is the content of a static
    include (include_tasks/include_role with a literal name), loaded up front.
    """

    module: str
    args: Mapping[str, Any]
    name: str
    origin: str
    keywords: Mapping[str, Any]
    when: tuple[Cond, ...] = ()
    tags: frozenset[str] = frozenset()
    vars: tuple[Mapping[str, Any], ...] = ()
    role: Role | None = None
    listen: tuple[str, ...] = ()
    children: Block | None = None
    base_dir: str = ""  # the directory of the file the task is in (relative paths)

    def keyword(self, name: str, default: Any = None) -> Any:
        return self.keywords.get(name, default)

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        if self.role is not None:
            return f"{self.role.name} : {self.module}"
        return self.module


@dataclass(frozen=True, eq=False)
class Block:
    """``block`` / ``rescue`` / ``always`` sections (the children already carry the
    block's inherited settings)."""

    tasks: tuple[Node, ...]
    rescue: tuple[Node, ...] = ()
    always: tuple[Node, ...] = ()
    origin: str = ""


Node = Task | Block


@dataclass(frozen=True)
class VarPrompt:
    """One ``vars_prompt`` entry: asked before the run when there is a terminal."""

    name: str
    prompt: str
    origin: str
    default: Any = None
    private: bool = True
    confirm: bool = False


@dataclass(frozen=True, eq=False)
class Play:
    """One play: its hosts, its settings and the root block of its tasks."""

    name: str
    hosts: Any
    origin: str
    keywords: Mapping[str, Any]
    vars: Mapping[str, Any]
    vars_files: tuple[tuple[Any, str], ...]  # (raw name or list of candidates, origin)
    body: Block
    handlers: tuple[Task, ...]
    roles: tuple[Role, ...] = ()
    base_dir: str = ""
    prompts: tuple[VarPrompt, ...] = ()

    def keyword(self, name: str, default: Any = None) -> Any:
        return self.keywords.get(name, default)


@dataclass(frozen=True, eq=False)
class Playbook:
    path: str
    plays: tuple[Play, ...]
