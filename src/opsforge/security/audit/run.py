"""A fleet audit as an engine plan: one step per host on the pooled connection."""

from __future__ import annotations

from collections.abc import Sequence

from opsforge.connectors.pool import ConnectionPool
from opsforge.engine import HostOutcome, Plan, Step, StepContext, StepOutcome
from opsforge.errors import ConnectError
from opsforge.security.audit.host import TOOL, AuditSettings, HostAudit, audit_host
from opsforge.security.findings import Finding, number_occurrences
from opsforge.security.report import Problem, ScanReport
from opsforge.types import Become, HostSpec, HostStatus

__all__ = ["build_audit_plan", "fleet_report"]


def build_audit_plan(
    specs: Sequence[HostSpec],
    pool: ConnectionPool,
    settings: AuditSettings,
    become: Become | None,
    results: dict[str, HostAudit],
) -> Plan:
    """One step per host; each host's :class:`HostAudit` lands in ``results``.
    ``become`` overrides the inventory's become of every host (None: the inventory's)."""

    def make_action(spec: HostSpec):  # type: ignore[no-untyped-def]
        async def action(ctx: StepContext) -> StepOutcome:
            try:
                conn = await pool.get(spec)
            except ConnectError as exc:  # reported, and the engine marks the host
                problem = Problem(f"not audited: {exc.message}", host=spec.name, tool=TOOL)
                results[spec.name] = HostAudit(spec.name, problems=(problem,))
                raise
            audit = await audit_host(conn, spec, settings, become or spec.become)
            results[spec.name] = audit
            found = len(audit.failing)
            message = f"{found} finding{'' if found == 1 else 's'}"
            if audit.problems:
                message += f", {len(audit.problems)} not checked"
            return StepOutcome(HostStatus.OK, message=message, data=audit.summary())

        return action

    return Plan(
        steps=tuple(
            Step(id=spec.name, host=spec.name, action=make_action(spec), description="audit")
            for spec in specs
        )
    )


def fleet_report(
    hosts: Sequence[str], results: dict[str, HostAudit], outcomes: dict[str, HostOutcome]
) -> ScanReport:
    """One report over the fleet: findings per host, and a problem for every host that
    could not be audited (unreachable, refused login, interrupted)."""
    findings: list[Finding] = []
    problems: list[Problem] = []
    for host in hosts:
        audit = results.get(host)
        if audit is not None:
            findings.extend(audit.findings())
            problems.extend(audit.problems)
            continue
        outcome = outcomes.get(host)
        status = outcome.status.value if outcome is not None else "not run"
        why = outcome.message if outcome is not None and outcome.message else status
        problems.append(Problem(f"not audited ({status}): {why}", host=host, tool=TOOL))
    audited = sum(1 for h in hosts if h in results and results[h].sshd is not None)
    return ScanReport(
        findings=number_occurrences(findings),
        problems=tuple(problems),
        tools=(TOOL,),
        stats={"hosts": len(hosts), "hosts_audited": audited},
    )
