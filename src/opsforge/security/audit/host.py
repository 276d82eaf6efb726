"""Audit one host: read its facts (one round trip), read what its sshd offers on the
wire, judge both against the policy, and turn what fails into findings."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from opsforge.connectors.base import Connector
from opsforge.deploy.facts.base import Fact, FactCache, FactError
from opsforge.security.audit.baseline_rules import baseline_verdicts
from opsforge.security.audit.checks import CHECKS, TOOL, Verdict, checks_for
from opsforge.security.audit.facts import (
    DEFAULT_SSHD_CONFIG,
    Baseline,
    BaselineInfo,
    SshdFacts,
    SshdInfo,
)
from opsforge.security.audit.policy import Policy
from opsforge.security.audit.sshd_rules import WIRE_CHECKS, sshd_verdicts, wire_verdicts
from opsforge.security.audit.wire import ServerOffer, WireError, read_server_offer
from opsforge.security.findings import Finding, Location, Severity
from opsforge.security.report import Problem
from opsforge.types import Become, HostSpec

__all__ = ["SSHD_CONFIG_VAR", "TOOL", "AuditSettings", "HostAudit", "audit_host", "sshd_config_of"]

#: host variable naming the main sshd_config (default /etc/ssh/sshd_config)
SSHD_CONFIG_VAR = "opsforge_sshd_config"


@dataclass(frozen=True)
class AuditSettings:
    profile: str = "all"  # ssh | baseline | all
    policy: Policy = field(default_factory=Policy)
    connect_timeout: float = 10.0


@dataclass(frozen=True)
class HostAudit:
    """Everything one host's audit saw and judged."""

    host: str
    verdicts: tuple[Verdict, ...] = ()  # passing ones too
    problems: tuple[Problem, ...] = ()
    sshd: SshdInfo | None = None
    baseline: BaselineInfo | None = None
    offer: ServerOffer | None = None
    round_trips: int = 0

    @property
    def failing(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.message is not None)

    def findings(self) -> tuple[Finding, ...]:
        return tuple(to_finding(self.host, v) for v in self.failing)

    def summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for finding in self.findings():
            counts[finding.severity.label] = counts.get(finding.severity.label, 0) + 1
        return {"findings": len(self.failing), "problems": len(self.problems), **counts}


def sshd_config_of(spec: HostSpec) -> str:
    value = spec.vars.get(SSHD_CONFIG_VAR)
    return str(value) if value else DEFAULT_SSHD_CONFIG


def to_finding(host: str, verdict: Verdict) -> Finding:
    check = CHECKS[verdict.check_id]
    severity = check.severity
    if not verdict.failing and severity > Severity.LOW:
        severity = Severity(severity - 1)
    remediation = check.remediation
    if not check.remediable or (not verdict.fix and verdict.why_no_fix):
        remediation += f" (not fixed by opsforge harden: {verdict.why_no_fix or 'needs a person'})"
    finding = check.at(
        Location(host=host, path=verdict.path),
        message=verdict.message or check.title,
        severity=severity,
        key=verdict.key,
    )
    return replace(finding, remediation=remediation)


def _wanted(profile: str, policy: Policy) -> set[str]:
    return {c.id for c in checks_for(profile) if c.id not in policy.disable}


def _wire_target(spec: HostSpec) -> tuple[str, int] | None:
    if spec.proxy_jump and spec.proxy_jump != "none":
        return None
    return spec.address or spec.name, spec.port or 22


async def audit_host(
    conn: Connector, spec: HostSpec, settings: AuditSettings, become: Become | None
) -> HostAudit:
    """Audit ``spec`` over ``conn`` (facts read with ``become``); never raises for what a
    check could not read: that becomes a :class:`Problem` (the report is incomplete)."""
    wanted = _wanted(settings.profile, settings.policy)
    ssh = settings.profile in ("ssh", "all")
    base = settings.profile in ("baseline", "all")
    sshd_fact = SshdFacts(sshd_config_of(spec))
    facts: list[Fact[Any]] = [sshd_fact] + ([Baseline()] if base else [])
    cache = FactCache(spec.name)
    problems: list[Problem] = []
    audit = HostAudit(spec.name)
    try:
        await cache.gather(conn, facts, become=become)
    except FactError as exc:
        return replace(
            audit, problems=(_problem(spec.name, f"reading facts failed: {exc.message}"),)
        )
    sshd = cache.get(sshd_fact)
    baseline = cache.get(Baseline()) if base else None
    verdicts: list[Verdict] = []
    if not sshd.ok:
        hint = "" if become else " (sshd -T needs root: try --become)"
        problems.append(_problem(spec.name, f"sshd -T -f {sshd.config} failed{hint}: {sshd.error}"))
    elif ssh:
        verdicts.extend(sshd_verdicts(sshd, settings.policy))
    offer = None
    if ssh:
        offer, problem = await _read_offer(spec, settings)
        if problem is not None:
            problems.append(problem)
        if offer is not None:
            verdicts.extend(wire_verdicts(offer, settings.policy))
    if baseline is not None:
        verdicts.extend(baseline_verdicts(baseline, sshd, settings.policy))
    verdicts = [_located(v, sshd) for v in verdicts if v.check_id in wanted]
    return HostAudit(
        spec.name,
        tuple(verdicts),
        tuple(problems),
        sshd,
        baseline,
        offer,
        cache.round_trips,
    )


#: the checks about sshd_config (the rest of the ssh profile is about the wire)
SSHD_CONFIG_CHECKS = frozenset(c.id for c in checks_for("ssh") if c.id not in WIRE_CHECKS)


def _located(verdict: Verdict, sshd: SshdInfo) -> Verdict:
    """sshd configuration findings point at the main config file."""
    if verdict.path is None and verdict.check_id in SSHD_CONFIG_CHECKS:
        return replace(verdict, path=sshd.config)
    return verdict


async def _read_offer(
    spec: HostSpec, settings: AuditSettings
) -> tuple[ServerOffer | None, Problem | None]:
    target = _wire_target(spec)
    if target is None:
        return None, _problem(
            spec.name, "algorithms on the wire not read: the host is behind a ProxyJump"
        )
    try:
        offer = await read_server_offer(*target, within=settings.connect_timeout)
    except WireError as exc:
        return None, _problem(spec.name, f"reading the server's algorithms failed: {exc}")
    return offer, None


def _problem(host: str, message: str) -> Problem:
    return Problem(message, host=host, tool=TOOL)
