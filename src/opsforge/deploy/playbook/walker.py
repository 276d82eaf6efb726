"""A cursor over a play's blocks: which task comes next, and where a failure goes.

The cursor is an immutable tuple of frames (a block, the section being run —
``block``, ``rescue`` or ``always`` — and the index of the next child), so the
executor can keep the cursor of any earlier task and go back to it when a task
planned ahead of time turns out to have failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from opsforge.deploy.playbook.model import Block, Node, Task

__all__ = ["Cursor", "Failure", "Frame", "HostFailed", "advance", "fail", "start"]


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed task: what to put in ``ansible_failed_task``/``ansible_failed_result``."""

    task: Task
    result: Mapping[str, Any]
    message: str


class HostFailed(Exception):
    """The failure reached the top of the play: the host stops."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


@dataclass(frozen=True, slots=True)
class Frame:
    block: Block
    section: str = "block"  # block | rescue | always
    index: int = 0
    error: Failure | None = None  # re-raised when the always section ends
    vars: Mapping[str, Any] = field(default_factory=dict)  # include params, loop item
    rescued: Failure | None = None  # the failure being rescued (in a rescue section)

    def children(self) -> tuple[Node, ...]:
        block = self.block
        if self.section == "block":
            return block.tasks
        return block.rescue if self.section == "rescue" else block.always


Cursor = tuple[Frame, ...]


def start(block: Block, variables: Mapping[str, Any] | None = None) -> Cursor:
    return (Frame(block, vars=dict(variables or {})),)


def push(cursor: Cursor, block: Block, variables: Mapping[str, Any]) -> Cursor:
    """Enter ``block`` (an include's content) before whatever comes next."""
    return (*cursor, Frame(block, vars=dict(variables)))


def advance(cursor: Cursor) -> tuple[Task | None, Cursor]:
    """The next task and the cursor after it (None, () at the end). Raises HostFailed when
    an always section ends that was entered by a failure nobody rescued."""
    stack = cursor
    while stack:
        top = stack[-1]
        children = top.children()
        if top.index < len(children):
            node = children[top.index]
            stack = (*stack[:-1], replace(top, index=top.index + 1))
            if isinstance(node, Block):
                stack = (*stack, Frame(node))
                continue
            return node, stack
        if top.section in ("block", "rescue") and top.block.always:
            stack = (*stack[:-1], Frame(top.block, "always", 0, top.error, top.vars))
            continue
        stack = stack[:-1]
        if top.error is not None:
            stack = fail(stack, top.error)
    return None, ()


def fail(cursor: Cursor, failure: Failure) -> Cursor:
    """Where execution goes after ``failure`` at ``cursor``: the nearest rescue, else the
    always sections on the way out; HostFailed when nothing catches it."""
    stack = cursor
    while stack:
        top = stack[-1]
        if top.section == "block" and top.block.rescue:
            return (*stack[:-1], Frame(top.block, "rescue", 0, None, top.vars, failure))
        if top.section in ("block", "rescue") and top.block.always:
            return (*stack[:-1], Frame(top.block, "always", 0, failure, top.vars))
        stack = stack[:-1]
    raise HostFailed(failure)


def frame_vars(cursor: Cursor) -> list[Mapping[str, Any]]:
    """Include parameters of the frames at ``cursor``, innermost first."""
    return [frame.vars for frame in reversed(cursor) if frame.vars]


def rescued(cursor: Cursor) -> Failure | None:
    for frame in reversed(cursor):
        if frame.rescued is not None:
            return frame.rescued
    return None
