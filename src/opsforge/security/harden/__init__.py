"""Hardening: the audit's checks as desired state, applied as deploy operations.

``opsforge harden PATTERN -i INVENTORY [--check] [--diff]`` runs it: sshd settings in
a drop-in (or a managed block) tested with ``sshd -t`` before sshd is reloaded, file
modes, locked empty-password accounts, automatic updates; a change that would lock
out the connecting user is refused, and a new login is tried after every sshd change
(rolled back if it fails).
"""

from __future__ import annotations

from opsforge.security.harden.remediation import (
    DROP_IN_NAME,
    Remediation,
    SshdTarget,
    plan_remediation,
)
from opsforge.security.harden.run import HardenResult, HardenRun, harden_deploy, run_harden
from opsforge.security.harden.sshd_op import SshdConfig

__all__ = [
    "DROP_IN_NAME",
    "HardenResult",
    "HardenRun",
    "Remediation",
    "SshdConfig",
    "SshdTarget",
    "harden_deploy",
    "plan_remediation",
    "run_harden",
]
