"""How the configuration checks (Dockerfile, Kubernetes, CI, SSH) declare their rules."""

from __future__ import annotations

from opsforge.security.findings import Check, Severity

__all__ = ["TOOL", "config_check"]

#: The ``tool`` of every configuration finding.
TOOL = "config"


def config_check(
    rule_id: str, title: str, severity: Severity, rationale: str, fix: str, *, tag: str
) -> Check:
    """A configuration rule; ``tag`` names the file kind (docker, kubernetes, ci, ssh)."""
    return Check(
        rule_id, title, severity, tool=TOOL, rationale=rationale, remediation=fix, tags=(tag,)
    )
