"""opsforge: one DevOps toolkit.

The public API is the names in ``__all__`` (pinned by a test); every other module
is private. Names load lazily so that ``opsforge --version`` stays instant.

    >>> import opsforge
    >>> c = opsforge.connect("deploy@web1:2222")          # doctest: +SKIP
    >>> c.run("uptime").stdout                             # doctest: +SKIP
    >>> opsforge.Group.from_inventory("inv.yml", "web").run("uptime")   # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "connect": "opsforge.connection",
    "Connection": "opsforge.connection",
    "AsyncConnection": "opsforge.connection",
    "Group": "opsforge.group",
    "AsyncGroup": "opsforge.group",
    "GroupResult": "opsforge.group",
    "load_inventory": "opsforge.inventory",
    "Inventory": "opsforge.inventory",
    "Result": "opsforge.types",
    "HostSpec": "opsforge.types",
    "HostStatus": "opsforge.types",
    "Become": "opsforge.types",
    "Secret": "opsforge.types",
    "ConnectOptions": "opsforge.types",
    "HostKeyPolicy": "opsforge.types",
    "OpsforgeError": "opsforge.errors",
    "CommandFailed": "opsforge.errors",
    "CommandTimeout": "opsforge.errors",
    "ConnectError": "opsforge.errors",
    "UnreachableError": "opsforge.errors",
    "AuthError": "opsforge.errors",
    "HostKeyError": "opsforge.errors",
    "GroupError": "opsforge.errors",
    "TransferError": "opsforge.errors",
}

__all__ = [
    "AsyncConnection",
    "AsyncGroup",
    "AuthError",
    "Become",
    "CommandFailed",
    "CommandTimeout",
    "ConnectError",
    "ConnectOptions",
    "Connection",
    "Group",
    "GroupError",
    "GroupResult",
    "HostKeyError",
    "HostKeyPolicy",
    "HostSpec",
    "HostStatus",
    "Inventory",
    "OpsforgeError",
    "Result",
    "Secret",
    "TransferError",
    "UnreachableError",
    "__version__",
    "connect",
    "load_inventory",
]

if TYPE_CHECKING:
    from opsforge.connection import AsyncConnection, Connection, connect
    from opsforge.errors import (
        AuthError,
        CommandFailed,
        CommandTimeout,
        ConnectError,
        GroupError,
        HostKeyError,
        OpsforgeError,
        TransferError,
        UnreachableError,
    )
    from opsforge.group import AsyncGroup, Group, GroupResult
    from opsforge.inventory import Inventory, load_inventory
    from opsforge.types import (
        Become,
        ConnectOptions,
        HostKeyPolicy,
        HostSpec,
        HostStatus,
        Result,
        Secret,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'opsforge' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
