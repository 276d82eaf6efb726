"""Report writers (JSON, SARIF 2.1.0, JUnit), baselines and exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from opsforge.engine.exitcodes import ExitCode
from opsforge.errors import InputError
from opsforge.security import (
    Confidence,
    Finding,
    Location,
    Problem,
    ScanReport,
    Severity,
    Suppression,
    apply_baseline,
    exit_code,
    load_baseline,
    render_json,
    render_junit,
    render_sarif,
)


def sample_report(tmp_path: Path) -> ScanReport:
    findings = (
        Finding(
            rule_id="B602",
            title="subprocess call with shell=True",
            severity=Severity.HIGH,
            confidence=Confidence.HIGH,
            tool="bandit",
            location=Location(path="app/run.py", line=7, column=5, snippet="call(cmd, shell=True)"),
            rationale="shell=True runs the string through /bin/sh: injection.",
            remediation="Pass a list of arguments without shell=True.",
            help_uri="https://bandit.readthedocs.io/en/latest/plugins/b602.html",
        ),
        Finding(
            rule_id="secret.aws-access-key",
            title="AWS access key id",
            severity=Severity.CRITICAL,
            tool="secrets",
            location=Location(path="deploy/.env", line=2, snippet="AWS_KEY=AKIA****"),
            key="sha256:1234",
        ),
        Finding(
            rule_id="docker.latest-tag",
            title="Image uses the latest tag",
            severity=Severity.LOW,
            tool="config",
            location=Location(path="Dockerfile", line=1, snippet="FROM python:latest"),
            suppression=Suppression(reason="pinned by digest in CI", line=1),
        ),
        Finding(
            rule_id="ssh.permit-root-login",
            title="sshd permits root login",
            severity=Severity.HIGH,
            tool="audit",
            location=Location(host="web1", path="/etc/ssh/sshd_config"),
            message="PermitRootLogin yes",
        ),
        Finding(
            rule_id="ssh.weak-mac",
            title="Weak MAC offered",
            severity=Severity.MEDIUM,
            tool="audit",
            location=Location(host="web2"),
        ),
    )
    problems = (
        Problem("cannot read: Permission denied", path="secret/locked.txt", tool="secrets"),
        Problem("binary file skipped", path="img.png", incomplete=False),
    )
    return ScanReport(
        findings=findings,
        problems=problems,
        root=str(tmp_path),
        tools=("bandit", "secrets", "config", "dependencies"),
    )


def test_sarif_is_valid_and_complete(tmp_path: Path, validate_sarif: Callable[[Any], None]) -> None:
    report = sample_report(tmp_path)
    text = render_sarif(report)
    validate_sarif(text)
    log = json.loads(text)
    run = log["runs"][0]
    assert log["version"] == "2.1.0"
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [
        "B602",
        "secret.aws-access-key",
        "docker.latest-tag",
        "ssh.permit-root-login",
        "ssh.weak-mac",
    ]
    first = run["results"][0]
    assert first["level"] == "error"
    assert first["partialFingerprints"] == {"opsforge/v1": report.findings[0].fingerprint}
    region = first["locations"][0]["physicalLocation"]["region"]
    assert region == {
        "startLine": 7,
        "startColumn": 5,
        "snippet": {"text": "call(cmd, shell=True)"},
    }
    assert first["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "app/run.py",
        "uriBaseId": "SRCROOT",
    }
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == tmp_path.resolve().as_uri() + "/"
    assert run["results"][2]["suppressions"] == [
        {"kind": "inSource", "justification": "pinned by digest in CI"}
    ]
    host = run["results"][3]["locations"][0]
    assert host["logicalLocations"][0] == {
        "name": "web1",
        "fullyQualifiedName": "web1",
        "kind": "host",
    }
    assert host["physicalLocation"]["artifactLocation"]["uri"] == "ssh://web1/etc/ssh/sshd_config"
    assert "physicalLocation" not in run["results"][4]["locations"][0]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert [n["level"] for n in invocation["toolExecutionNotifications"]] == ["error", "note"]


def test_sarif_of_empty_report_is_valid(validate_sarif: Callable[[Any], None]) -> None:
    log = json.loads(render_sarif(ScanReport()))
    validate_sarif(log)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_json_report(tmp_path: Path) -> None:
    data = json.loads(render_json(sample_report(tmp_path)))
    assert data["format"] == "opsforge.security/v1"
    assert data["summary"] == {
        "findings": 4,
        "suppressed": 1,
        "baseline_hidden": 0,
        "incomplete": True,
        "by_severity": {"low": 0, "medium": 1, "high": 2, "critical": 1},
    }
    first = data["findings"][0]
    assert first["location"]["line"] == 7
    assert first["severity"] == "high"
    assert first["confidence"] == "high"
    assert data["findings"][2]["suppression"] == {"reason": "pinned by digest in CI", "line": 1}
    assert data["problems"][0]["path"] == "secret/locked.txt"


def test_junit_report(tmp_path: Path) -> None:
    root = ET.fromstring(render_junit(sample_report(tmp_path)))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {
        "opsforge.bandit",
        "opsforge.secrets",
        "opsforge.config",
        "opsforge.dependencies",
        "opsforge.audit",
        "opsforge.problems",
    }
    assert suites["opsforge.bandit"].get("failures") == "1"
    assert suites["opsforge.config"].get("skipped") == "1"
    assert suites["opsforge.dependencies"].get("failures") == "0"  # ran, clean
    assert suites["opsforge.problems"].get("errors") == "1"
    failure = suites["opsforge.bandit"].find("testcase/failure")
    assert failure is not None
    assert failure.get("type") == "high"
    assert "Pass a list of arguments" in (failure.text or "")
    assert root.get("failures") == "4"


@pytest.mark.parametrize(
    ("fail_on", "incomplete", "expected"),
    [
        (Severity.LOW, False, ExitCode.FAILED),
        (Severity.CRITICAL, False, ExitCode.FAILED),  # the AWS key
        (Severity.LOW, True, ExitCode.FAILED),  # findings win over incomplete
    ],
)
def test_exit_code_with_findings(
    tmp_path: Path, fail_on: Severity, incomplete: bool, expected: ExitCode
) -> None:
    report = sample_report(tmp_path)
    if not incomplete:
        report = ScanReport(findings=report.findings)
    assert exit_code(report, fail_on) == expected


def test_exit_code_threshold_suppression_and_incomplete() -> None:
    low = Finding(
        rule_id="docker.latest-tag",
        title="t",
        severity=Severity.LOW,
        tool="config",
        location=Location(path="Dockerfile", snippet="FROM x:latest"),
    )
    assert exit_code(ScanReport(findings=(low,)), Severity.MEDIUM) == ExitCode.OK
    assert exit_code(ScanReport(findings=(low,)), Severity.LOW) == ExitCode.FAILED
    silenced = replace(low, suppression=Suppression("ok"))
    assert exit_code(ScanReport(findings=(silenced,)), Severity.LOW) == ExitCode.OK
    notice = ScanReport(problems=(Problem("binary", path="a.png", incomplete=False),))
    assert exit_code(notice) == ExitCode.OK
    missing_db = ScanReport(problems=(Problem("no advisory database", tool="dependencies"),))
    assert exit_code(missing_db) == ExitCode.UNREACHABLE == 3


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_baseline_from_json_and_sarif(tmp_path: Path, fmt: str) -> None:
    report = sample_report(tmp_path)
    baseline = tmp_path / f"baseline.{fmt}"
    old = ScanReport(findings=report.findings[:2])
    baseline.write_text(render_json(old) if fmt == "json" else render_sarif(old))
    fingerprints = load_baseline(baseline)
    assert fingerprints == {f.fingerprint for f in report.findings[:2]}
    new = apply_baseline(report, fingerprints)
    assert [f.rule_id for f in new.findings] == [f.rule_id for f in report.findings[2:]]
    assert new.baseline_hidden == 2


def test_bad_baselines_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read baseline"):
        load_baseline(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"findings": [\n  oops')
    with pytest.raises(InputError, match=r"broken.json:2: baseline is not JSON"):
        load_baseline(broken)
    other = tmp_path / "other.json"
    other.write_text("[1, 2]")
    with pytest.raises(InputError, match="not an opsforge JSON report or a SARIF log"):
        load_baseline(other)
