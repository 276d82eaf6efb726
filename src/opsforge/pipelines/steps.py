"""Built-in step types (``Step.kind`` other than ``"shell"``) and their registry.

A handler is ``async def handler(call: StepCall) -> int`` returning the step's exit
code (0 = success); it writes what it has to say with ``call.log.note(...)``.
Front-ends add their own with :func:`register_step_type` at import time.

Built-ins:

``checkout``
    nothing to do: the workdir already holds the project files.
``upload_artifact``
    params ``name``, ``path`` (globs, newline separated or a list), ``exclude``:
    stores the files in the run's named artifact store.
``download_artifact``
    params ``name`` (None = every stored artifact), ``path`` (destination dir).
``deploy``
    params ``file`` (deploy.py), ``inventory``, ``limit``, ``check``: runs an opsforge
    deploy through :func:`opsforge.deploy.run` (see :mod:`opsforge.pipelines.deploystep`).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsforge.errors import UsageError
from opsforge.pipelines.files import copy_tree, match_files, store_files
from opsforge.pipelines.joblog import JobLog
from opsforge.pipelines.model import Job, Step
from opsforge.pipelines.workspace import safe_name

if TYPE_CHECKING:
    from opsforge.pipelines.runstate import RunState

__all__ = ["StepCall", "StepHandler", "register_step_type", "step_handler", "step_types"]


@dataclass(slots=True)
class StepCall:
    """What a step handler gets: the step, its job, workdir, env (mutable), log, run state."""

    step: Step
    job: Job
    workdir: Path
    env: dict[str, str]
    log: JobLog
    state: RunState

    def param(self, name: str, default: Any = None) -> Any:
        return self.step.params.get(name, default)

    def globs(self, name: str) -> tuple[str, ...]:
        value = self.param(name) or ()
        if isinstance(value, str):
            return tuple(line.strip() for line in value.splitlines() if line.strip())
        return tuple(str(v) for v in value)


StepHandler = Callable[[StepCall], Awaitable[int]]

_HANDLERS: dict[str, StepHandler] = {}
_LAZY: Mapping[str, str] = {"deploy": "opsforge.pipelines.deploystep:deploy_step"}


def register_step_type(kind: str, handler: StepHandler) -> None:
    """Make ``Step(kind=kind)`` run ``handler``."""
    _HANDLERS[kind] = handler


def step_types() -> list[str]:
    return sorted({*_HANDLERS, *_LAZY})


def step_handler(kind: str) -> StepHandler:
    handler = _HANDLERS.get(kind)
    if handler is None and kind in _LAZY:
        module, _, attr = _LAZY[kind].partition(":")
        handler = getattr(importlib.import_module(module), attr)
        _HANDLERS[kind] = handler
    if handler is None:
        raise UsageError(f"unknown step type {kind!r}; known: {', '.join(step_types())}")
    return handler


async def _checkout(call: StepCall) -> int:
    call.log.note("checkout: the workdir already holds the project files")
    return 0


def _store(call: StepCall) -> Path:
    return call.state.run_dir / "named-artifacts"


async def _upload(call: StepCall) -> int:
    name = str(call.param("name") or "artifact")
    patterns = call.globs("path")
    rels = await asyncio.to_thread(match_files, call.workdir, patterns, call.globs("exclude"))
    if not rels and call.param("if-no-files-found", "warn") == "error":
        call.log.note(f"upload_artifact {name}: no files match {', '.join(patterns)}")
        return 1
    dest = _store(call) / safe_name(name)
    count = await asyncio.to_thread(store_files, call.workdir, rels, dest)
    call.log.note(f"upload_artifact {name}: {count} files")
    return 0


async def _download(call: StepCall) -> int:
    name = call.param("name")
    target = call.workdir / str(call.param("path") or ".")
    store = _store(call)
    names = [safe_name(str(name))] if name else sorted(p.name for p in store.glob("*"))
    for each in names:
        source = store / each
        if not source.is_dir():
            call.log.note(f"download_artifact: no artifact named {each!r} in this run")
            return 1
        dest = target if name else target / each
        count = await asyncio.to_thread(copy_tree, source, dest)
        call.log.note(f"download_artifact {each}: {count} files")
    return 0


register_step_type("checkout", _checkout)
register_step_type("upload_artifact", _upload)
register_step_type("download_artifact", _download)
