"""Security checks: code/secret/dependency/config scanning, fleet audits, hardening.

Every check reports :class:`Finding` values (one model, see
:mod:`opsforge.security.findings`) collected in a :class:`ScanReport`, written as
a table, JSON, SARIF 2.1.0 or JUnit XML.
"""

from __future__ import annotations

from collections.abc import Callable

from opsforge.security.findings import (
    Check,
    Confidence,
    Finding,
    Location,
    Severity,
    Suppression,
    number_occurrences,
)
from opsforge.security.report import (
    SCAN_EXIT_CODE_HELP,
    Problem,
    ScanReport,
    apply_baseline,
    exit_code,
    load_baseline,
)
from opsforge.security.report_json import render_json
from opsforge.security.report_junit import render_junit
from opsforge.security.report_sarif import render_sarif

#: ``--format`` name → writer; each returns the whole document as text.
RENDERERS: dict[str, Callable[[ScanReport], str]] = {
    "json": render_json,
    "sarif": render_sarif,
    "junit": render_junit,
}

__all__ = [
    "RENDERERS",
    "SCAN_EXIT_CODE_HELP",
    "Check",
    "Confidence",
    "Finding",
    "Location",
    "Problem",
    "ScanReport",
    "Severity",
    "Suppression",
    "apply_baseline",
    "exit_code",
    "load_baseline",
    "number_occurrences",
    "render_json",
    "render_junit",
    "render_sarif",
]
