"""``opsforge audit PATTERN``: sshd configuration, algorithms on the wire and a host
baseline, checked across a fleet in parallel; findings per host, JSON, SARIF or JUnit."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.text import Text

from opsforge.cli.console import err_console, out_console
from opsforge.cli.redact import Redactor, known_secrets
from opsforge.cli.render import TextRenderer
from opsforge.cli.runner import execute
from opsforge.cli.security_output import SEVERITY_STYLE, gate_options
from opsforge.cli.security_output import write_report as write_document_report
from opsforge.cli.targets import Targets, resolve_targets, target_options
from opsforge.connectors.pool import ConnectionPool
from opsforge.engine import Plan
from opsforge.engine.exitcodes import ExitCode
from opsforge.errors import UsageError
from opsforge.security import (
    SCAN_EXIT_CODE_HELP,
    ScanReport,
    Severity,
    apply_baseline,
    exit_code,
    load_baseline,
)
from opsforge.security.audit import (
    PROFILES,
    AuditSettings,
    HostAudit,
    Policy,
    build_audit_plan,
    fleet_report,
    load_policy,
)

F = TypeVar("F", bound=Callable[..., Any])


def audit_options(func: F) -> F:
    """``--profile`` and ``--policy``, shared by audit and harden."""
    options = [
        click.option(
            "--profile",
            type=click.Choice(PROFILES),
            default="all",
            show_default=True,
            help="ssh: sshd config and algorithms; baseline: host baseline; all: both.",
        ),
        click.option(
            "--policy",
            "policy_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="YAML policy overriding the defaults (see docs/security.md).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def load_settings(params: dict[str, Any], targets: Targets) -> AuditSettings:
    policy: Policy = load_policy(params["policy_file"])
    return AuditSettings(
        profile=params["profile"],
        policy=policy,
        connect_timeout=targets.connect.connect_timeout,
    )


def run_audit(
    targets: Targets, settings: AuditSettings, *, command: str, text: TextRenderer
) -> tuple[int, dict[str, HostAudit]]:
    """Run the audit plan; the engine's exit code and each host's audit."""
    results: dict[str, HostAudit] = {}

    def build(pool: ConnectionPool) -> Plan:
        return build_audit_plan(targets.specs, pool, settings, targets.fanout.become, results)

    code = execute(targets, build, command=command, text=text)
    return code, results


def print_findings(report: ScanReport) -> None:
    """Findings grouped by host, then what could not be checked (stdout)."""
    by_host: dict[str, list[Any]] = {}
    for finding in report.active:
        by_host.setdefault(finding.location.host or "", []).append(finding)
    for host, findings in by_host.items():
        out_console.print(Text(f"{host}: {len(findings)} findings", style="bold"))
        for finding in sorted(findings, key=lambda f: (-f.severity, f.rule_id)):
            style = SEVERITY_STYLE[finding.severity]
            out_console.print(
                Text.assemble(
                    "  ",
                    (finding.severity.label.upper().ljust(6), style),
                    " ",
                    (finding.rule_id, "bold"),
                    "  ",
                    finding.text,
                )
            )
            out_console.print(Text(f"         fix: {finding.remediation}", style="dim"))
    for problem in report.problems:
        out_console.print(Text.assemble(("not checked: ", "bold magenta"), str(problem)))
    counts = report.counts()
    summary = ", ".join(f"{counts[s.label]} {s.label}" for s in reversed(Severity))
    hidden = f", {report.baseline_hidden} in the baseline" if report.baseline_hidden else ""
    err_console.print(
        f"{len(report.active)} findings ({summary}){hidden} on "
        f"{report.stats.get('hosts_audited', 0)}/{report.stats.get('hosts', 0)} hosts"
    )


def write_report(report: ScanReport, fmt: str, dest: Path | None) -> None:
    """``fmt`` (json/sarif/junit) to ``dest`` (atomically) or stdout; text to stdout."""
    if fmt == "text":
        print_findings(report)
        return
    write_document_report(report, fmt, dest)


def _check_outputs(params: dict[str, Any]) -> None:
    if params["output"] == "json" and params["format"] != "text" and params["report"] is None:
        raise UsageError("-o json (events) and --format on stdout would mix; give --report FILE")


@click.command("audit", epilog=SCAN_EXIT_CODE_HELP)
@click.argument("pattern")
@target_options
@audit_options
@click.option(
    "--format",
    "format",
    type=click.Choice(["text", "json", "sarif", "junit"]),
    default="text",
    show_default=True,
    help="Report format (on stdout, or in --report FILE).",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file instead of stdout.",
)
@gate_options
def audit_command(pattern: str, **params: Any) -> None:
    """Audit the hosts matching PATTERN: sshd and host baseline against a policy.

    sshd: the effective configuration (sshd -T, read with --become where needed)
    and the algorithms the server offers on the wire, graded like ssh-audit.
    Baseline: modes of /etc/shadow, /etc/passwd and host keys, empty passwords,
    extra UID 0 accounts, world-writable PATH entries, sudoers NOPASSWD,
    automatic security updates, services listening on every address.
    A host that cannot be reached is reported and the others are audited.

    \b
      opsforge audit all -i inventory.yml
      opsforge audit web -i inv.ini --become --profile ssh --format sarif --report ssh.sarif
    """
    _check_outputs(params)
    targets = resolve_targets(pattern, params)
    settings = load_settings(params, targets)
    known = load_baseline(params["baseline"]) if params["baseline"] else None
    text = TextRenderer([s.name for s in targets.specs])
    code, results = run_audit(targets, settings, command="audit", text=text)
    report = fleet_report([s.name for s in targets.specs], results, {})
    become = targets.fanout.become
    report = Redactor(known_secrets(targets.specs, [become.password if become else None])).value(
        report
    )
    if known is not None:
        report = apply_baseline(report, known)
    write_report(report, params["format"], params["report"])
    if code == ExitCode.INTERRUPTED:
        sys.exit(code)
    sys.exit(int(exit_code(report, Severity.parse(params["fail_on"]))))
