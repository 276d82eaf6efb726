"""The JSON report (``--format json``): one document, stable keys, stable order.

Shape (``"format": "opsforge.security/v1"``)::

    {"format": ..., "tool": {"name": "opsforge", "version": ...}, "root": ...,
     "summary": {"findings": N, "suppressed": N, "baseline_hidden": N,
                 "incomplete": bool, "by_severity": {"low": N, ...}},
     "findings": [{"rule_id", "title", "severity", "confidence", "message",
                   "rationale", "remediation", "help_uri", "tags", "tool",
                   "fingerprint", "location": {"path", "line", "column",
                   "end_line", "snippet", "host"}, "suppression": null |
                   {"reason", "line"}}, ...],
     "problems": [{"message", "path", "line", "host", "tool", "incomplete"}],
     "stats": {...}}
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from opsforge import __version__
from opsforge.security.findings import Finding
from opsforge.security.report import ScanReport

__all__ = ["REPORT_FORMAT", "finding_to_dict", "render_json", "report_to_dict"]

REPORT_FORMAT = "opsforge.security/v1"


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    return {
        "rule_id": finding.rule_id,
        "title": finding.title,
        "severity": finding.severity.label,
        "confidence": finding.confidence.label,
        "message": finding.text,
        "rationale": finding.rationale,
        "remediation": finding.remediation,
        "help_uri": finding.help_uri,
        "tags": list(finding.tags),
        "tool": finding.tool,
        "fingerprint": finding.fingerprint,
        "location": asdict(finding.location),
        "suppression": asdict(finding.suppression) if finding.suppression else None,
    }


def report_to_dict(report: ScanReport) -> dict[str, Any]:
    return {
        "format": REPORT_FORMAT,
        "tool": {"name": "opsforge", "version": __version__},
        "root": report.root,
        "summary": {
            "findings": len(report.active),
            "suppressed": len(report.findings) - len(report.active),
            "baseline_hidden": report.baseline_hidden,
            "incomplete": report.incomplete,
            "by_severity": report.counts(),
        },
        "findings": [finding_to_dict(finding) for finding in report.findings],
        "problems": [asdict(problem) for problem in report.problems],
        "stats": dict(report.stats),
    }


def render_json(report: ScanReport) -> str:
    """The report as indented JSON text (ends with a newline)."""
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"
