"""The SARIF 2.1.0 log (``--format sarif``) for code scanning dashboards.

One run, tool driver ``opsforge``; one ``reportingDescriptor`` per rule id;
one result per finding with ``partialFingerprints["opsforge/v1"]`` (the
content-based fingerprint of :mod:`opsforge.security.findings`). File
locations are relative to ``%SRCROOT%`` (``originalUriBaseIds`` names the
scanned directory); fleet findings carry a logical location of kind ``host``
(plus ``ssh://HOST/path`` when the check read a file on the host). Inline
suppressions become ``suppressions[kind=inSource]`` with the reason;
what could not be checked becomes ``toolExecutionNotifications``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from opsforge import __version__
from opsforge.security.findings import FINGERPRINT_VERSION, Finding, Location, Severity
from opsforge.security.report import Problem, ScanReport

__all__ = ["SARIF_SCHEMA_URI", "render_sarif", "report_to_sarif"]

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/opsforge/opsforge"

_LEVEL = {
    Severity.LOW: "note",
    Severity.MEDIUM: "warning",
    Severity.HIGH: "error",
    Severity.CRITICAL: "error",
}
#: GitHub code scanning reads this property (0.1-10) to rank security results.
_SECURITY_SEVERITY = {
    Severity.LOW: "2.0",
    Severity.MEDIUM: "5.0",
    Severity.HIGH: "7.5",
    Severity.CRITICAL: "9.5",
}


def _rule(finding: Finding) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": finding.rule_id,
        "name": finding.rule_id,
        "shortDescription": {"text": finding.title},
        "fullDescription": {"text": finding.rationale or finding.title},
        "defaultConfiguration": {"level": _LEVEL[finding.severity]},
        "properties": {
            "tags": ["security", finding.tool, *finding.tags],
            "security-severity": _SECURITY_SEVERITY[finding.severity],
            "precision": {3: "high", 2: "medium", 1: "low"}[int(finding.confidence)],
        },
    }
    if finding.remediation:
        rule["help"] = {"text": finding.remediation}
    if finding.help_uri:
        rule["helpUri"] = finding.help_uri
    return rule


def _region(location: Location) -> dict[str, Any] | None:
    if location.line is None or location.line < 1:
        return None
    region: dict[str, Any] = {"startLine": location.line}
    if location.column is not None and location.column >= 1:
        region["startColumn"] = location.column
    if location.end_line is not None and location.end_line >= location.line:
        region["endLine"] = location.end_line
    if location.snippet:
        region["snippet"] = {"text": location.snippet}
    return region


def _location(location: Location) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if location.host is not None:
        result["logicalLocations"] = [
            {"name": location.host, "fullyQualifiedName": location.host, "kind": "host"}
        ]
        if location.path is not None:
            uri = f"ssh://{quote(location.host, safe='')}/{quote(location.path.lstrip('/'))}"
            physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
            region = _region(location)
            if region:
                physical["region"] = region
            result["physicalLocation"] = physical
        return result
    assert location.path is not None
    physical = {"artifactLocation": {"uri": quote(location.path), "uriBaseId": "SRCROOT"}}
    region = _region(location)
    if region:
        physical["region"] = region
    result["physicalLocation"] = physical
    return result


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.text},
        "locations": [_location(finding.location)],
        "partialFingerprints": {FINGERPRINT_VERSION: finding.fingerprint},
        "properties": {
            "severity": finding.severity.label,
            "confidence": finding.confidence.label,
            "tool": finding.tool,
        },
    }
    if finding.suppression is not None:
        result["suppressions"] = [{"kind": "inSource", "justification": finding.suppression.reason}]
    return result


def _notification(problem: Problem) -> dict[str, Any]:
    note: dict[str, Any] = {
        "level": "error" if problem.incomplete else "note",
        "message": {"text": problem.message},
        "properties": {"tool": problem.tool, "incomplete": problem.incomplete},
    }
    if problem.path is not None or problem.host is not None:
        location = Location(path=problem.path, line=problem.line, host=problem.host)
        note["locations"] = [_location(location)]
    return note


def report_to_sarif(report: ScanReport) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log (a dict ready for :func:`json.dumps`)."""
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results = []
    for finding in report.findings:
        if finding.rule_id not in index:
            index[finding.rule_id] = len(rules)
            rules.append(_rule(finding))
        results.append(_result(finding, index[finding.rule_id]))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "opsforge",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "invocations": [
            {
                "executionSuccessful": not report.incomplete,
                "toolExecutionNotifications": [_notification(p) for p in report.problems],
            }
        ],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if report.root is not None:
        run["originalUriBaseIds"] = {"SRCROOT": {"uri": Path(report.root).resolve().as_uri() + "/"}}
    return {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(report: ScanReport) -> str:
    return json.dumps(report_to_sarif(report), indent=2, ensure_ascii=False) + "\n"
