"""Fleet audits over SSH: the sshd configuration (``sshd -T``), the algorithms the
server offers on the wire (graded like ssh-audit) and a host baseline, against a
policy; every failed check becomes a :class:`~opsforge.security.Finding`.

``opsforge audit PATTERN -i INVENTORY [--profile ssh|baseline|all]`` runs it.
"""

from __future__ import annotations

from opsforge.security.audit.checks import CHECKS, PROFILES, FleetCheck, Verdict, checks_for
from opsforge.security.audit.facts import Baseline, BaselineInfo, SshdFacts, SshdInfo
from opsforge.security.audit.grading import Grade, grade
from opsforge.security.audit.host import (
    SSHD_CONFIG_VAR,
    AuditSettings,
    HostAudit,
    audit_host,
    sshd_config_of,
)
from opsforge.security.audit.policy import Policy, PolicyError, load_policy
from opsforge.security.audit.run import build_audit_plan, fleet_report
from opsforge.security.audit.wire import ServerOffer, WireError, read_server_offer

__all__ = [
    "CHECKS",
    "PROFILES",
    "SSHD_CONFIG_VAR",
    "AuditSettings",
    "Baseline",
    "BaselineInfo",
    "FleetCheck",
    "Grade",
    "HostAudit",
    "Policy",
    "PolicyError",
    "ServerOffer",
    "SshdFacts",
    "SshdInfo",
    "Verdict",
    "WireError",
    "audit_host",
    "build_audit_plan",
    "checks_for",
    "fleet_report",
    "grade",
    "load_policy",
    "read_server_offer",
    "sshd_config_of",
]
