"""A security report: findings plus what could not be checked, baselines, exit codes.

Exit codes of ``opsforge scan`` / ``opsforge audit`` (the shared table of
:mod:`opsforge.engine.exitcodes`, read for security checks):

======  ============  ==========================================================
 code    ExitCode      meaning for a security check
======  ============  ==========================================================
 0       OK            complete and no unsuppressed finding at or above --fail-on
 1       FAILED        at least one unsuppressed finding at or above --fail-on
                       (wins over 3: the check already failed)
 2       USAGE         usage or input error (bad option, unreadable baseline)
 3       UNREACHABLE   the check is incomplete: a file could not be read or
                       parsed, the advisory database is missing, a package could
                       not be checked, a host could not be reached
 4       INTERNAL      internal error (a bug in opsforge)
 130     INTERRUPTED   interrupted (Ctrl-C)
======  ============  ==========================================================
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from opsforge.engine.exitcodes import ExitCode
from opsforge.errors import InputError
from opsforge.security.findings import FINGERPRINT_VERSION, Finding, Severity

__all__ = [
    "SCAN_EXIT_CODE_HELP",
    "Problem",
    "ScanReport",
    "apply_baseline",
    "exit_code",
    "load_baseline",
]

#: The table above as plain lines for a ``--help`` epilog.
SCAN_EXIT_CODE_HELP = """\
Exit codes:
  0    complete, no unsuppressed finding at or above --fail-on
  1    findings at or above --fail-on (wins over 3)
  2    usage or input error (bad option, unreadable --baseline)
  3    incomplete: a file could not be read or parsed, the advisory database is
       missing, a package or host could not be checked
  4    internal error (a bug in opsforge: please report it)
  130  interrupted (Ctrl-C)"""


@dataclass(frozen=True)
class Problem:
    """Something a scanner could not do (or chose to skip), said to the user.

    ``incomplete=True`` means the report is not a full answer (exit code 3);
    ``False`` is a notice only (a binary file skipped by design).
    """

    message: str
    path: str | None = None
    line: int | None = None
    host: str | None = None
    tool: str = "opsforge"
    incomplete: bool = True

    def __str__(self) -> str:
        where = self.path or ""
        if where and self.line is not None:
            where += f":{self.line}"
        if self.host:
            where = f"{self.host} {where}".strip()
        return f"{where}: {self.message}" if where else self.message


@dataclass(frozen=True)
class ScanReport:
    """Everything one scan or audit found, in a stable order."""

    findings: tuple[Finding, ...] = ()
    problems: tuple[Problem, ...] = ()
    root: str | None = None
    tools: tuple[str, ...] = ()
    stats: dict[str, int] = field(default_factory=dict)
    baseline_hidden: int = 0

    @property
    def incomplete(self) -> bool:
        return any(problem.incomplete for problem in self.problems)

    @property
    def active(self) -> tuple[Finding, ...]:
        """Findings that are not suppressed inline."""
        return tuple(f for f in self.findings if f.suppression is None)

    def at_or_above(self, threshold: Severity) -> tuple[Finding, ...]:
        return tuple(f for f in self.active if f.severity >= threshold)

    def counts(self) -> dict[str, int]:
        """Active findings per severity label, every label present."""
        counts = {severity.label: 0 for severity in Severity}
        for finding in self.active:
            counts[finding.severity.label] += 1
        return counts


def exit_code(report: ScanReport, fail_on: Severity = Severity.LOW) -> ExitCode:
    """0 clean, 1 findings at or above ``fail_on``, 3 incomplete (see module doc)."""
    if report.at_or_above(fail_on):
        return ExitCode.FAILED
    if report.incomplete:
        return ExitCode.UNREACHABLE
    return ExitCode.OK


def load_baseline(path: Path) -> frozenset[str]:
    """Fingerprints of a previous report: opsforge JSON or SARIF (any tool's SARIF
    that carries our ``partialFingerprints`` key). A missing or malformed file is an
    :class:`~opsforge.errors.InputError` naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read baseline: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: baseline is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}:{exc.lineno}: baseline is not JSON ({exc.msg}); "
            "give a report written with --format json or --format sarif"
        ) from None
    fingerprints: set[str] = set()
    if isinstance(data, dict) and isinstance(data.get("findings"), list):
        for item in data["findings"]:
            if isinstance(item, dict) and isinstance(item.get("fingerprint"), str):
                fingerprints.add(item["fingerprint"])
        return frozenset(fingerprints)
    if isinstance(data, dict) and isinstance(data.get("runs"), list):
        for run in data["runs"]:
            for result in run.get("results", []) if isinstance(run, dict) else []:
                partial = result.get("partialFingerprints", {}) if isinstance(result, dict) else {}
                value = partial.get(FINGERPRINT_VERSION) if isinstance(partial, dict) else None
                if isinstance(value, str):
                    fingerprints.add(value)
        return frozenset(fingerprints)
    raise InputError(
        f"{path}: not an opsforge JSON report or a SARIF log (expected a 'findings' or 'runs' list)"
    )


def apply_baseline(report: ScanReport, fingerprints: Iterable[str]) -> ScanReport:
    """The report with findings whose fingerprint is in the baseline left out."""
    known = frozenset(fingerprints)
    kept = tuple(f for f in report.findings if f.fingerprint not in known)
    hidden = len(report.findings) - len(kept)
    return replace(report, findings=kept, baseline_hidden=report.baseline_hidden + hidden)
