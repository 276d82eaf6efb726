"""``strategy.matrix`` expansion with GitHub's include/exclude rules.

The cells are the cartesian product of the matrix keys in the order written. ``exclude``
removes every cell that matches all of an entry's keys. Each ``include`` entry is added to
every cell whose *original* matrix values it does not contradict (values it added earlier
may be overwritten); an entry that fits no cell becomes a cell of its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from opsforge.pipelines.github.expr_values import loose_equal, to_string

__all__ = ["MatrixError", "cell_label", "expand_matrix"]


class MatrixError(ValueError):
    """A matrix that cannot be expanded (a key without values, a bad include)."""


def _matches(cell: Mapping[str, Any], entry: Mapping[str, Any]) -> bool:
    return all(key in cell and _same(cell[key], value) for key, value in entry.items())


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Mapping | list) or isinstance(b, Mapping | list):
        return bool(a == b)
    return loose_equal(a, b)


def expand_matrix(matrix: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The matrix cells, in order; ``[]`` when the matrix is empty."""
    include = matrix.get("include") or []
    exclude = matrix.get("exclude") or []
    if not isinstance(include, list) or not all(isinstance(e, Mapping) for e in include):
        raise MatrixError("matrix include must be a list of mappings")
    if not isinstance(exclude, list) or not all(isinstance(e, Mapping) for e in exclude):
        raise MatrixError("matrix exclude must be a list of mappings")
    vectors: dict[str, list[Any]] = {}
    for key, values in matrix.items():
        if key in ("include", "exclude"):
            continue
        if not isinstance(values, list):
            raise MatrixError(f"matrix vector {key!r} must be a list, not {to_string(values)!r}")
        if not values:
            raise MatrixError(f"matrix vector {key!r} does not contain any values")
        vectors[key] = values
    for entry in exclude:
        unknown = [k for k in entry if k not in vectors]
        if unknown:
            raise MatrixError(f"matrix exclude names unknown key(s): {', '.join(unknown)}")
    cells: list[dict[str, Any]] = []
    if vectors:
        for combo in itertools.product(*vectors.values()):
            cell = dict(zip(vectors, combo, strict=True))
            if not any(_matches(cell, entry) for entry in exclude):
                cells.append(cell)
    original = set(vectors)
    originals: list[dict[str, Any] | None] = [dict(cell) for cell in cells]
    for entry in include:
        fitted = False
        for cell, orig in zip(cells, originals, strict=True):
            if orig is not None and all(
                _same(orig[k], v) for k, v in entry.items() if k in original
            ):
                cell.update(entry)
                fitted = True
        if not fitted:
            cells.append(dict(entry))
            originals.append(None)  # a cell of its own: later entries do not extend it
    return cells


def cell_label(cell: Mapping[str, Any]) -> str:
    """How GitHub shows a cell after the job name: its values, comma-separated."""
    parts = []
    for value in cell.values():
        if isinstance(value, Mapping):
            parts.append(", ".join(to_string(v) for v in value.values()))
        else:
            parts.append(to_string(value))
    return ", ".join(parts)
