"""Python code through Bandit's library API: vulnerable and fixed modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.security import Confidence, Severity
from opsforge.security.scan import ScanOptions, run_scan

VULNERABLE = """\
import hashlib
import subprocess
import yaml


def run(cmd):
    return subprocess.call(cmd, shell=True)


def load(text):
    return yaml.load(text)


def digest(data):
    return hashlib.md5(data).hexdigest()


def calc(expr):
    return eval(expr)
"""

FIXED = """\
import ast
import hashlib
import shlex
import subprocess

import yaml


def run(cmd):
    return subprocess.call(shlex.split(cmd))


def load(text):
    return yaml.safe_load(text)


def digest(data):
    return hashlib.sha256(data).hexdigest()


def calc(expr):
    return ast.literal_eval(expr)
"""


def scan(root: Path) -> dict[str, tuple[Severity, Confidence, int | None]]:
    report = run_scan(ScanOptions(root=root, scanners=frozenset({"code"}), jobs=1))
    return {
        f.rule_id: (f.severity, f.confidence, f.location.line)
        for f in report.findings
        if f.tool == "bandit"
    }


def test_vulnerable_module_findings_with_mapped_severity(tmp_path: Path) -> None:
    (tmp_path / "tool.py").write_text(VULNERABLE)
    found = scan(tmp_path)
    assert found["B602"] == (Severity.HIGH, Confidence.HIGH, 7)  # shell=True
    assert found["B506"] == (Severity.MEDIUM, Confidence.HIGH, 11)  # yaml.load
    assert found["B324"] == (Severity.HIGH, Confidence.HIGH, 15)  # md5
    assert found["B307"][0] == Severity.MEDIUM  # eval
    assert found["B307"][2] == 19


def test_fixed_module_has_none_of_them(tmp_path: Path) -> None:
    (tmp_path / "tool.py").write_text(FIXED)
    found = scan(tmp_path)
    assert not {"B602", "B506", "B324", "B307"} & set(found)


def test_bandit_finding_carries_docs_snippet_and_location(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "tool.py").write_text(VULNERABLE)
    report = run_scan(ScanOptions(root=tmp_path, scanners=frozenset({"code"}), jobs=1))
    shell = next(f for f in report.findings if f.rule_id == "B602")
    assert shell.location.path == "pkg/tool.py"
    assert shell.location.snippet == "return subprocess.call(cmd, shell=True)"
    assert shell.location.column == 12
    assert "b602" in (shell.help_uri or "")
    assert "CWE-78" in shell.tags
    assert "shell=True" in shell.remediation


def test_python_script_without_suffix_is_scanned(tmp_path: Path) -> None:
    (tmp_path / "deploy").write_text("#!/usr/bin/env python3\nimport os\nos.system(input())\n")
    assert "B605" in scan(tmp_path)


def test_syntax_error_is_reported_and_scan_continues(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def oops(:\n    pass\n")
    (tmp_path / "tool.py").write_text(VULNERABLE)
    report = run_scan(ScanOptions(root=tmp_path, scanners=frozenset({"code"}), jobs=1))
    assert any(f.rule_id == "B602" for f in report.findings)
    (problem,) = report.problems
    assert problem.path == "broken.py"
    assert "syntax error" in problem.message
    assert report.incomplete


NOSEC = """\
import subprocess

TABLE = {
    "a": subprocess.call("ls", shell=True),  # nosec B602
    "b": "/tmp/x",
    "c": subprocess.call(
        "ls",  # nosec
        shell=True,
    ),
}
PASSWORD = "hunter22"  # nosec
TOKEN = "tok-1234567"
subprocess.call("ls", shell=True)
x = [1,
     2]  # nosec
assert TABLE
"""


def test_fast_nosec_lookup_gives_bandit_s_own_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bandit.core import utils as bandit_utils

    from opsforge.security.scan import code

    (tmp_path / "nosec.py").write_text(NOSEC)
    (tmp_path / "tool.py").write_text(VULNERABLE)
    fast = scan(tmp_path)
    fast_all = run_scan(ScanOptions(root=tmp_path, scanners=frozenset({"code"}), jobs=1))
    assert bandit_utils.get_nosec is code.fast_get_nosec

    def original(nosec_lines: dict[int, object], context: dict[str, list[int]]) -> object:
        for line in context["linerange"]:
            found = nosec_lines.get(line)
            if found is not None:
                return found
        return None

    monkeypatch.setattr(code, "fast_get_nosec", original)
    slow_all = run_scan(ScanOptions(root=tmp_path, scanners=frozenset({"code"}), jobs=1))
    assert bandit_utils.get_nosec is original
    assert [f.fingerprint for f in slow_all.findings] == [f.fingerprint for f in fast_all.findings]
    lines = {
        (f.rule_id, f.location.line) for f in fast_all.findings if f.location.path == "nosec.py"
    }
    assert ("B602", 4) not in lines  # nosec B602 on the line
    assert ("B602", 13) in lines
    assert ("B105", 12) in lines
    assert ("B105", 11) not in lines
    assert fast
