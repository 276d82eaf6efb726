"""Public test helpers: a local SSH lab of real ``sshd`` processes on 127.0.0.1, and
Debian test hosts (real Debian 12 userlands in namespaces, with their own sshd and
address; root only).

::

    from opsforge.testing import DebianHosts, SSHLab

    with SSHLab(tmp_path / "lab", 3) as lab:
        pool = ConnectionPool(lab.connect_options())
        conn = await pool.get(lab.host_spec("lab1"))

    with DebianHosts(tmp_path / "debian", 2) as hosts:
        hosts.run_on_host("deb1", "cat /etc/debian_version")
"""

from __future__ import annotations

from opsforge.testing.debian import (
    DebianHost,
    DebianHosts,
    DebianHostsInfo,
    debian_hosts_unavailable,
)
from opsforge.testing.debian_cache import (
    DebianCache,
    DebianCacheError,
    DebianHostsError,
    ensure_cache,
    load_cache,
)
from opsforge.testing.debian_ns import cleanup_leftovers
from opsforge.testing.lab import (
    LabError,
    LabHost,
    LabInfo,
    SSHLab,
    lab_down,
    lab_status,
    lab_up,
)
from opsforge.testing.processes import processes_matching, wait_gone

__all__ = [
    "DebianCache",
    "DebianCacheError",
    "DebianHost",
    "DebianHosts",
    "DebianHostsError",
    "DebianHostsInfo",
    "LabError",
    "LabHost",
    "LabInfo",
    "SSHLab",
    "cleanup_leftovers",
    "debian_hosts_unavailable",
    "ensure_cache",
    "lab_down",
    "lab_status",
    "lab_up",
    "load_cache",
    "processes_matching",
    "wait_gone",
]
