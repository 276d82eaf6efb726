"""The native Python API: decorated functions are jobs, parametrisation is the matrix.

``opsforge_pipeline.py``::

    from opsforge.pipelines.native import job

    @job(stage="build", inputs=["src/**/*.py"], artifacts=["dist/"])
    def build(ctx):
        ctx.sh("python -m build")

    @job(stage="test", needs=["build"], matrix={"py": ["3.11", "3.12"]})
    def test(ctx, py):
        ctx.sh(f"uv run -p {py} pytest")

Each job runs as its own process (``python -m opsforge.pipelines.native.pyrunner``) in
the job's workdir, so timeouts, Ctrl-C, isolation, artifacts and caches work exactly as
for YAML jobs. ``ctx.sh`` streams the command's output and raises on failure (the job
fails with that exit code).
"""

from __future__ import annotations

import itertools
import json
import runpy
import shlex
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.formats import LoadOptions
from opsforge.pipelines.model import (
    AllowFailure,
    Artifacts,
    Job,
    Need,
    Pipeline,
    Retry,
    SourceLocation,
    Step,
    Variable,
    When,
)

__all__ = ["JobSpec", "job", "load_python_pipeline"]

MARK = "__opsforge_job__"
DEFAULT_STAGES = ("build", "test", "deploy")


@dataclass(frozen=True)
class JobSpec:
    """What ``@job(...)`` declared."""

    stage: str = "test"
    needs: Sequence[str] | None = None
    matrix: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    inputs: Sequence[str] = ()
    artifacts: Sequence[str] = ()
    cache_dirs: Sequence[str] = ()
    variables: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None
    retry: int = 0
    allow_failure: bool = False
    when: str = "on_success"
    name: str | None = None


def job(**kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a function ``f(ctx, **matrix_values)`` as a job; see the module docstring."""
    spec = JobSpec(**kwargs)

    def mark(func: Callable[..., Any]) -> Callable[..., Any]:
        setattr(func, MARK, spec)
        return func

    return mark


def _cells(matrix: Mapping[str, Sequence[Any]]) -> list[dict[str, str]]:
    if not matrix:
        return [{}]
    keys = list(matrix)
    return [
        dict(zip(keys, map(str, combo), strict=True))
        for combo in itertools.product(*matrix.values())
    ]


def _module(path: Path) -> dict[str, Any]:
    try:
        return runpy.run_path(str(path), run_name="__opsforge_pipeline__")
    except SyntaxError as exc:
        raise PipelineError(
            f"Python syntax error: {exc.msg}", path=str(path), line=exc.lineno
        ) from None
    except Exception as exc:
        tb = traceback.extract_tb(exc.__traceback__)
        line = next((f.lineno for f in reversed(tb) if f.filename == str(path)), None)
        raise PipelineError(
            f"loading failed: {type(exc).__name__}: {exc}", path=str(path), line=line
        ) from None


def load_python_pipeline(path: Path, options: LoadOptions) -> Pipeline:
    path = path.resolve()
    namespace = _module(path)
    display = (
        str(path.relative_to(options.root.resolve()))
        if path.is_relative_to(options.root.resolve())
        else str(path)
    )
    functions = [(n, f) for n, f in namespace.items() if callable(f) and hasattr(f, MARK)]
    if not functions:
        raise PipelineError("no @job functions found", path=display)
    expanded: dict[str, list[str]] = {}
    specs: list[tuple[str, Callable[..., Any], JobSpec]] = []
    for attr, func in functions:
        spec: JobSpec = getattr(func, MARK)
        name = spec.name or attr
        cells = _cells(spec.matrix)
        expanded[name] = [f"{name}: [{', '.join(c.values())}]" if c else name for c in cells]
        specs.append((name, func, spec))
    stages = list(DEFAULT_STAGES)
    jobs: list[Job] = []
    python = shlex.quote(sys.executable)
    for name, func, spec in specs:
        if spec.stage not in stages:
            stages.append(spec.stage)
        line = func.__code__.co_firstlineno
        needs = (
            None
            if spec.needs is None
            else tuple(Need(cell) for n in spec.needs for cell in expanded.get(n, [n]))
        )
        for cell, cell_name in zip(_cells(spec.matrix), expanded[name], strict=True):
            command = (
                f"exec {python} -m opsforge.pipelines.native.pyrunner {shlex.quote(str(path))} "
                f"{shlex.quote(func.__name__)} {shlex.quote(json.dumps(cell))}"
            )
            variables = {k: Variable(v) for k, v in {**spec.variables, **options.variables}.items()}
            variables.update({k: Variable(v, masked=True) for k, v in options.secrets.items()})
            jobs.append(
                Job(
                    name=cell_name,
                    stage=spec.stage,
                    needs=needs,
                    steps=(
                        Step(
                            run=command,
                            name=func.__name__,
                            shell="sh -e {0}",
                            source=SourceLocation(display, line),
                        ),
                    ),
                    matrix=cell,
                    matrix_of=name if spec.matrix else None,
                    inputs=tuple(spec.inputs),
                    artifacts=Artifacts(paths=tuple(spec.artifacts)) if spec.artifacts else None,
                    cache_dirs=tuple(spec.cache_dirs),
                    variables=variables,
                    timeout=spec.timeout,
                    retry=Retry(max=spec.retry),
                    allow_failure=AllowFailure(spec.allow_failure),
                    when=When(spec.when),
                    source=SourceLocation(display, line),
                )
            )
    return Pipeline(
        name=display,
        format="native",
        source=SourceLocation(display, 1),
        root=options.root,
        jobs=tuple(jobs),
        stages=(".pre", *stages, ".post"),
    )
