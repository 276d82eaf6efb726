"""opsforge: one DevOps toolkit. Public API below; every other module is private."""

from __future__ import annotations

__version__ = "0.1.0"
