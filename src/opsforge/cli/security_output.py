"""Writing security reports: the findings table for people, documents for machines.

Shared by ``opsforge scan`` and the fleet ``audit``/``harden`` commands.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from opsforge.cli.console import err_console, out_console
from opsforge.errors import UsageError
from opsforge.security import RENDERERS, ScanReport, Severity

__all__ = [
    "SEVERITY_STYLE",
    "gate_options",
    "print_problems",
    "print_table",
    "write_document",
    "write_report",
]


def gate_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--fail-on SEVERITY`` and ``--baseline FILE``: what makes a scan or audit fail."""
    func = click.option(
        "--baseline",
        type=click.Path(dir_okay=False, path_type=Path),
        help="A previous JSON or SARIF report: only findings not in it are reported.",
    )(func)
    return click.option(
        "--fail-on",
        type=click.Choice([s.label for s in Severity]),
        default="low",
        show_default=True,
        help="Exit 1 when a reported finding is at or above this severity.",
    )(func)


SEVERITY_STYLE = {
    Severity.LOW: "cyan",
    Severity.MEDIUM: "yellow",
    Severity.HIGH: "bold red",
    Severity.CRITICAL: "bold magenta",
}


def write_document(document: str, dest: Path | None) -> None:
    """``document`` to stdout, or to ``dest`` atomically (temp file + rename)."""
    if dest is None:
        sys.stdout.write(document if document.endswith("\n") else document + "\n")
        sys.stdout.flush()
        return
    tmp = dest.with_name(f".{dest.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(document, encoding="utf-8")
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"{dest}: cannot write the report: {exc.strerror or exc}") from None
    err_console.print(f"report written to {dest}")


def write_report(report: ScanReport, fmt: str, dest: Path | None) -> None:
    """A json/sarif/junit document of ``report`` (see :data:`opsforge.security.RENDERERS`)."""
    write_document(RENDERERS[fmt](report), dest)


def print_table(report: ScanReport, *, show_suppressed: bool = False) -> None:
    """Findings as a table on stdout, most severe first."""
    findings = report.findings if show_suppressed else report.active
    if not findings:
        return
    table = Table(box=None, pad_edge=False, show_edge=False)
    for name in ("severity", "rule", "location", "finding"):
        table.add_column(name, no_wrap=name != "finding", overflow="fold")
    ordered = sorted(findings, key=lambda f: (-f.severity, f.location.path or "", f.rule_id))
    for finding in ordered:
        label = finding.severity.label.upper()
        if finding.suppression is not None:
            label = f"{label} (suppressed)"
        detail = Text(finding.text)
        if finding.location.snippet:
            detail.append(f"\n  {finding.location.snippet}", style="dim")
        if finding.suppression is not None:
            detail.append(f"\n  suppressed: {finding.suppression.reason}", style="dim")
        elif finding.remediation:
            detail.append(f"\n  fix: {finding.remediation}", style="green")
        table.add_row(
            Text(label, style=SEVERITY_STYLE[finding.severity]),
            Text(finding.rule_id, style="bold"),
            Text(str(finding.location)),
            detail,
        )
    out_console.print(table)


def print_problems(report: ScanReport) -> None:
    """What could not be checked (and notices), on stderr."""
    for problem in report.problems:
        label = ("not checked: ", "bold magenta") if problem.incomplete else ("note: ", "dim")
        err_console.print(Text.assemble(label, str(problem)))
