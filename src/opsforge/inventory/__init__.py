"""Hosts, groups and variables from Ansible-compatible inventories.

::

    >>> from opsforge.inventory import load_inventory
    >>> inv = load_inventory(["inventory.yml", "extra.ini"])      # doctest: +SKIP
    >>> [h.name for h in inv.select("web:&prod", limit="web0*")]  # doctest: +SKIP
    >>> inv.hosts["web01"].spec()                                 # doctest: +SKIP

Sources: INI and YAML/JSON inventory files, directories of them, Python files
defining ``inventory()``, and host lists (``"web1,deploy@web2:2222,"``,
``"@local"``). ``group_vars/`` and ``host_vars/`` are read next to file sources
and inside directory sources, with Ansible's precedence.
"""

from opsforge.inventory.inventory import Inventory
from opsforge.inventory.loader import load_inventory
from opsforge.inventory.model import Group, Host, VarOrigin

__all__ = ["Group", "Host", "Inventory", "VarOrigin", "load_inventory"]
