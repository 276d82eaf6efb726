"""GitHub Actions workflows: the ``${{ }}`` expression language and the importer.

Registered as the pipeline format ``github`` (``FRONTEND``); see docs/pipelines.md.
"""

from __future__ import annotations

from pathlib import Path

from opsforge.pipelines.formats import Frontend, LoadOptions
from opsforge.pipelines.github.expr_eval import Scope
from opsforge.pipelines.github.expressions import (
    Condition,
    Template,
    Where,
    compile_condition,
    compile_template,
)
from opsforge.pipelines.model import Pipeline

__all__ = [
    "FRONTEND",
    "Condition",
    "Scope",
    "Template",
    "Where",
    "compile_condition",
    "compile_template",
    "load",
]


def detect(path: Path) -> bool:
    """A file under ``.github/workflows/``, or YAML whose jobs have ``runs-on``/``steps``."""
    if path.suffix not in (".yml", ".yaml"):
        return False
    if path.parent.name == "workflows" and path.parent.parent.name == ".github":
        return True
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:20000]
    except OSError:
        return False
    return "\njobs:" in f"\n{head}" and "runs-on:" in head and "steps:" in head


def load(path: Path, options: LoadOptions) -> Pipeline:
    from opsforge.pipelines.github import cache_steps  # noqa: F401  (registers the step types)
    from opsforge.pipelines.github.workflow import load_workflow

    return load_workflow(path, options)


FRONTEND = Frontend(
    name="github",
    order=30,
    default_paths=(".github/workflows/*.yml", ".github/workflows/*.yaml"),
    detect=detect,
    load=load,
    description="GitHub Actions workflows (.github/workflows/*.yml)",
    inputs="workflow inputs",
)
