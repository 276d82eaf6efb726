"""GitHub Actions workflows: the ``${{ }}`` expression language and the importer."""

from __future__ import annotations

from opsforge.pipelines.github.expr_eval import Scope
from opsforge.pipelines.github.expressions import (
    Condition,
    Template,
    Where,
    compile_condition,
    compile_template,
)

__all__ = [
    "Condition",
    "Scope",
    "Template",
    "Where",
    "compile_condition",
    "compile_template",
]
