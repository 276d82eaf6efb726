"""The JUnit XML report (``--format junit``) for CI systems that show test results.

One ``<testsuite>`` per tool (bandit, secrets, dependencies, config, audit...);
each unsuppressed finding is a ``<testcase>`` with a ``<failure>`` (type = the
severity); suppressed findings are ``<skipped>`` with the reason. What could
not be checked is a testcase with an ``<error>`` in the ``opsforge`` suite. A
clean scan is one passing testcase per tool that ran, so CI shows it ran.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # writing only; nothing untrusted is parsed
from collections import defaultdict

from opsforge.security.findings import Finding
from opsforge.security.report import ScanReport

__all__ = ["render_junit"]


def _case(suite: ET.Element, name: str, classname: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", {"name": name, "classname": classname, "time": "0"})


def _finding_case(suite: ET.Element, finding: Finding) -> None:
    case = _case(
        suite, f"{finding.rule_id} {finding.location}", f"{finding.tool}.{finding.rule_id}"
    )
    if finding.suppression is not None:
        ET.SubElement(case, "skipped", {"message": f"suppressed: {finding.suppression.reason}"})
        return
    failure = ET.SubElement(
        case,
        "failure",
        {"message": f"[{finding.severity.label}] {finding.text}", "type": finding.severity.label},
    )
    lines = [
        f"{finding.title} ({finding.rule_id}, severity {finding.severity.label}, "
        f"confidence {finding.confidence.label})",
        f"location: {finding.location}",
    ]
    if finding.location.snippet:
        lines.append(f"snippet: {finding.location.snippet}")
    if finding.rationale:
        lines.append(f"why: {finding.rationale}")
    if finding.remediation:
        lines.append(f"fix: {finding.remediation}")
    lines.append(f"fingerprint: {finding.fingerprint}")
    failure.text = "\n".join(lines)


def render_junit(report: ScanReport) -> str:
    """The report as JUnit XML text."""
    by_tool: dict[str, list[Finding]] = defaultdict(list)
    for tool in report.tools:
        by_tool[tool]
    for finding in report.findings:
        by_tool[finding.tool].append(finding)
    root = ET.Element("testsuites", {"name": "opsforge security"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for tool in sorted(by_tool):
        findings = by_tool[tool]
        suite = ET.SubElement(root, "testsuite", {"name": f"opsforge.{tool}"})
        for finding in findings:
            _finding_case(suite, finding)
        if not findings:
            _case(suite, f"{tool}: no findings", f"{tool}")
        skipped = sum(1 for f in findings if f.suppression is not None)
        counts = {
            "tests": max(len(findings), 1),
            "failures": len(findings) - skipped,
            "errors": 0,
            "skipped": skipped,
        }
        _set_counts(suite, counts)
        for name, value in counts.items():
            totals[name] += value
    if report.problems:
        suite = ET.SubElement(root, "testsuite", {"name": "opsforge.problems"})
        errors = 0
        for problem in report.problems:
            where = problem.path or problem.host or "scan"
            case = _case(suite, f"{problem.tool} {where}", f"{problem.tool}.problem")
            if problem.incomplete:
                errors += 1
                ET.SubElement(case, "error", {"message": str(problem), "type": "incomplete"})
            else:
                ET.SubElement(case, "skipped", {"message": str(problem)})
        counts = {
            "tests": len(report.problems),
            "failures": 0,
            "errors": errors,
            "skipped": len(report.problems) - errors,
        }
        _set_counts(suite, counts)
        for name, value in counts.items():
            totals[name] += value
    _set_counts(root, totals)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _set_counts(element: ET.Element, counts: dict[str, int]) -> None:
    for name, value in counts.items():
        element.set(name, str(value))
