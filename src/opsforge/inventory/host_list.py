"""Host lists given directly as a source: ``-i web1,web2:2222,deploy@db1,[::1]:22``.

A single host needs a trailing comma (``-i web1,``), as in Ansible. ``user@``
sets ``ansible_user``, ``:port`` sets ``ansible_port``. The special host
``@local`` is this machine, reached through the local connector.
"""

from __future__ import annotations

from opsforge.errors import InventoryError
from opsforge.inventory.addresses import AddressError, parse_host_entry
from opsforge.inventory.builder import InventoryBuilder
from opsforge.inventory.model import VarOrigin

__all__ = ["LOCAL_HOST", "parse_host_list"]

#: The name of the host that means "this machine, no SSH".
LOCAL_HOST = "@local"


def parse_host_list(text: str, builder: InventoryBuilder) -> None:
    """Add every host of a comma-separated list to ``builder`` (ungrouped)."""
    label = f"host list {text!r}"
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if item == LOCAL_HOST:
            origin = VarOrigin(f"host {LOCAL_HOST!r}", source=label)
            builder.add_host(LOCAL_HOST)
            builder.set_host_var(LOCAL_HOST, "ansible_connection", "local", origin)
            continue
        user, _, entry = item.rpartition("@")
        if "@" in item and not user:
            raise InventoryError(f"in {label}: empty user name in {item!r}")
        try:
            names, port = parse_host_entry(entry)
        except AddressError as exc:
            raise InventoryError(f"in {label}: {exc}") from exc
        for name in names:
            origin = VarOrigin(f"host {name!r}", source=label)
            builder.add_host(name)
            if port is not None:
                builder.set_host_var(name, "ansible_port", port, origin)
            if user:
                builder.set_host_var(name, "ansible_user", user, origin)
