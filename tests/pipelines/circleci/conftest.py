"""The git project fixture of the GitHub tests, shared."""

from __future__ import annotations

from ..github.conftest import repo

__all__ = ["repo"]
