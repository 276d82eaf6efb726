"""Pipeline front-ends: a registry of formats, found through entry points, and auto-detection.

A front-end is a :class:`Frontend` value: a ``name``, the default file paths it
looks for (globs relative to the project root), an auto-detection ``order``,
``detect(path) -> bool`` and ``load(path, options) -> Pipeline``. It registers in
the entry-point group ``opsforge.pipeline_formats`` as ``name = "module:FRONTEND"``
(the built-ins are listed in pyproject.toml the same way, and in :data:`_BUILTINS`
so an uninstalled checkout works).

Auto-detection (``opsforge pipeline run`` without FILE) looks in the project root
for each front-end's default paths, the built-ins first in this order (third-party
formats after them, by ``order``): the native ``opsforge-pipeline.yml``
(or ``opsforge_pipeline.py``), ``.gitlab-ci.yml``, ``.github/workflows/*.yml``,
``.circleci/config.yml``, ``Jenkinsfile``; the first existing file wins. A FILE given
explicitly is offered to each front-end's ``detect`` in the same order.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from opsforge.errors import UsageError
from opsforge.pipelines.model import Pipeline
from opsforge.types import Secret

__all__ = [
    "ENTRY_POINT_GROUP",
    "Frontend",
    "LoadOptions",
    "available_formats",
    "detect_format",
    "find_pipeline_file",
    "frontend",
    "frontends",
    "load_pipeline",
]

ENTRY_POINT_GROUP = "opsforge.pipeline_formats"
_BUILTINS = {
    "native": "opsforge.pipelines.native:FRONTEND",
    "gitlab": "opsforge.pipelines.gitlab:FRONTEND",
    "github": "opsforge.pipelines.github:FRONTEND",
    "circleci": "opsforge.pipelines.circleci:FRONTEND",
    "jenkins": "opsforge.pipelines.jenkins:FRONTEND",
}


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """What a front-end may need besides the file.

    ``root``: project directory (git work tree). ``variables``: ``--var`` overrides
    (highest precedence). ``ref``/``base_ref``: the branch/tag being "pushed" and the
    ref ``changes:`` compare against (None = the default branch / HEAD~1).
    ``event``: the triggering event (``push``, ``merge_request_event``,
    ``pull_request``, ``workflow_dispatch``, ...). ``vendor_dir``: where remote,
    project, template and component includes are looked up.
    ``allow_missing_includes``: leave unresolvable includes out with a warning.
    ``strict``: unsupported features are errors instead of warnings.
    ``requested_jobs``: job names given on the command line (manual jobs run only then).
    ``secrets``: named secret values (``secrets.*``, ``--secret NAME=...``).
    ``inputs``: workflow/pipeline inputs.
    """

    root: Path
    variables: Mapping[str, str] = field(default_factory=dict)
    ref: str | None = None
    base_ref: str | None = None
    event: str = "push"
    vendor_dir: Path | None = None
    allow_missing_includes: bool = False
    strict: bool = False
    requested_jobs: tuple[str, ...] = ()
    secrets: Mapping[str, Secret] = field(default_factory=dict)
    inputs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Frontend:
    """One pipeline format; see the module docstring. ``inputs``: what ``--input`` sets in
    its files (e.g. "workflow inputs"), empty when the format has none (then ``--input``
    is refused, not ignored)."""

    name: str
    order: int
    default_paths: tuple[str, ...]
    detect: Callable[[Path], bool]
    load: Callable[[Path, LoadOptions], Pipeline]
    description: str = ""
    inputs: str = ""


def _target(name: str) -> str | None:
    """Where format ``name`` lives; built-ins without scanning the installed packages."""
    return _BUILTINS.get(name) or _entry_points().get(name)


@functools.cache
def _entry_points() -> dict[str, str]:
    from importlib.metadata import entry_points  # slow to import; only when a format is needed

    found = dict(_BUILTINS)
    found.update({ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)})
    return found


def available_formats() -> list[str]:
    return sorted(_entry_points())


@functools.cache
def frontend(name: str) -> Frontend:
    """The front-end registered as ``name``; :class:`UsageError` when unknown."""
    target = _target(name)
    if target is None:
        raise UsageError(
            f"unknown pipeline format {name!r}; available: {', '.join(available_formats())}"
        )
    module_name, _, attr = target.partition(":")
    try:
        value = getattr(importlib.import_module(module_name), attr or "FRONTEND")
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"pipeline format {name!r} ({target}) cannot be loaded: {exc}") from None
    if not isinstance(value, Frontend):
        raise UsageError(f"pipeline format {name!r} ({target}) is not a Frontend")
    return value


def frontends() -> list[Frontend]:
    """Every loadable front-end, in auto-detection order."""
    return list(_in_order())


def _in_order() -> Iterator[Frontend]:
    """The built-ins in their order, imported one at a time as detection needs them
    (so running a .gitlab-ci.yml never imports the GitHub front-end); then the other
    installed formats, by their ``order``."""
    for name in _BUILTINS:
        try:
            yield frontend(name)
        except UsageError:
            continue
    others = []
    for name in _entry_points():
        if name in _BUILTINS:
            continue
        try:
            others.append(frontend(name))
        except UsageError:
            continue
    yield from sorted(others, key=lambda f: (f.order, f.name))


def find_pipeline_file(
    root: Path, among: Iterable[Frontend] | None = None
) -> tuple[Path, Frontend]:
    """The first pipeline file under ``root`` in detection order (of ``among``, default
    every front-end); UsageError if none."""
    looked: list[str] = []
    for fe in among if among is not None else _in_order():
        for pattern in fe.default_paths:
            looked.append(pattern)
            for candidate in sorted(root.glob(pattern)):
                if candidate.is_file():
                    return candidate, fe
    raise UsageError(
        f"no pipeline file found in {root} (looked for {', '.join(looked)}); give FILE"
    )


def detect_format(path: Path) -> Frontend:
    """The front-end for ``path`` (first whose ``detect`` says yes); UsageError if none."""
    for fe in _in_order():
        if fe.detect(path):
            return fe
    raise UsageError(
        f"{path}: not a pipeline file opsforge knows "
        f"(formats: {', '.join(available_formats())}); use --format"
    )


def load_pipeline(
    path: Path | None, options: LoadOptions, *, format_name: str | None = None
) -> Pipeline:
    """Find (when ``path`` is None), detect and load a pipeline. ``format_name`` (an
    unknown one is a :class:`UsageError`) also limits the search to that format's files."""
    chosen = frontend(format_name) if format_name else None
    if path is None:
        path, fe = find_pipeline_file(options.root, [chosen] if chosen else None)
    elif not path.exists():
        raise UsageError(f"{path}: no such pipeline file")
    else:
        fe = chosen or detect_format(path)
    return fe.load(path, options)
