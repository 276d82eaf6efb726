"""Public test helpers: a local SSH lab of real ``sshd`` processes on 127.0.0.1.

::

    from opsforge.testing import SSHLab

    with SSHLab(tmp_path / "lab", 3) as lab:
        pool = ConnectionPool(lab.connect_options())
        conn = await pool.get(lab.host_spec("lab1"))
"""

from __future__ import annotations

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
    "LabError",
    "LabHost",
    "LabInfo",
    "SSHLab",
    "lab_down",
    "lab_status",
    "lab_up",
    "processes_matching",
    "wait_gone",
]
