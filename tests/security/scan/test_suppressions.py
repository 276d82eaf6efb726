"""Inline suppressions: honoured with a reason, reported without one."""

from __future__ import annotations

from pathlib import Path

from opsforge.engine.exitcodes import ExitCode
from opsforge.security import Severity, exit_code
from opsforge.security.scan import ScanOptions, run_scan

CODE = """\
import subprocess


def run(cmd):
    return subprocess.call(cmd, shell=True)  # opsforge: ignore[B602] cmd is a schema constant


def run2(cmd):
    # opsforge: ignore[B602, B604] - reviewed in SEC-12
    return subprocess.call(cmd, shell=True)


def run3(cmd):
    return subprocess.call(cmd, shell=True)  # opsforge: ignore[B602]


def run4(cmd):
    return subprocess.call(cmd, shell=True)  # opsforge: ignore[B101] wrong rule
"""

DOCKERFILE = """\
FROM python:3.12-slim
# opsforge: ignore[docker.*] the base image runs as root by design; see ADR-7
USER root
"""


def test_suppressions(tmp_path: Path) -> None:
    (tmp_path / "tool.py").write_text(CODE)
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    report = run_scan(ScanOptions(root=tmp_path, scanners=frozenset({"code", "config"}), jobs=1))
    shell = {f.location.line: f for f in report.findings if f.rule_id == "B602"}
    assert shell[5].suppression is not None
    assert shell[5].suppression.reason == "cmd is a schema constant"
    assert shell[10].suppression is not None
    assert shell[10].suppression.reason == "reviewed in SEC-12"
    assert shell[14].suppression is None  # no reason: not honoured
    assert shell[18].suppression is None  # another rule
    (missing,) = [f for f in report.findings if f.rule_id == "opsforge.suppression-without-reason"]
    assert missing.location.line == 14
    assert missing.severity is Severity.MEDIUM
    root_user = next(f for f in report.findings if f.rule_id == "docker.root-user")
    assert root_user.suppression is not None
    assert root_user.suppression.line == 2


def test_only_suppressed_findings_exit_clean(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    report = run_scan(ScanOptions(root=tmp_path, scanners=frozenset({"config"}), jobs=1))
    assert report.findings
    assert report.active == ()
    assert exit_code(report, Severity.LOW) is ExitCode.OK
