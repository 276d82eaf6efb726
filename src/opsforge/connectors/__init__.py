"""Connectors: run commands and move files on one host (``local``, ``ssh``).

The interface is :class:`Connector` (connect, run, put, get, close); a run opens
each host once through a :class:`ConnectionPool`.
"""

from __future__ import annotations

from opsforge.connectors.base import Connector, OutputCallback
from opsforge.connectors.pool import ConnectionPool, available_connectors, connector_class

__all__ = [
    "ConnectionPool",
    "Connector",
    "OutputCallback",
    "available_connectors",
    "connector_class",
]
