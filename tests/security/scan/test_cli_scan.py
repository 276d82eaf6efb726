"""``opsforge scan`` as a user runs it: formats, baseline, exit codes, bad input."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from opsforge.security.report_json import report_to_dict
from opsforge.security.scan import ScanOptions, run_scan

from . import corpus
from .conftest import ScanCli
from .test_code import VULNERABLE
from .test_config import DOCKERFILE_BAD, GITHUB_BAD, K8S_BAD


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "checkout-a" / "repo"
    corpus.write_cases(root, corpus.SECRETS + corpus.LOOK_ALIKES)
    (root / "app" / "tool.py").write_text(VULNERABLE)
    (root / "Dockerfile").write_text(DOCKERFILE_BAD)
    (root / "k8s").mkdir()
    (root / "k8s" / "web.yaml").write_text(K8S_BAD)
    (root / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
    (root / ".github" / "workflows" / "ci.yml").write_text(GITHUB_BAD)
    return root


def test_formats_and_no_secret_in_any_stream(
    scan_cli: ScanCli, tree: Path, tmp_path: Path, validate_sarif: Callable[[Any], None]
) -> None:
    table = scan_cli("scan", str(tree), "--skip", "dependencies")
    assert table.returncode == 1, table.stderr
    assert "secret.aws-access-key" in table.stdout
    assert "B602" in table.stdout
    assert "k8s.privileged" in table.stdout
    assert "findings (" in table.stderr
    sarif = scan_cli("scan", str(tree), "--skip", "dependencies", "--format", "sarif")
    validate_sarif(sarif.stdout)
    junit = scan_cli("scan", str(tree), "--skip", "dependencies", "--format", "junit")
    assert ET.fromstring(junit.stdout).get("failures") != "0"
    out = tmp_path / "report.json"
    to_file = scan_cli(
        "scan", str(tree), "--skip", "dependencies", "--format", "json", "-o", str(out)
    )
    assert to_file.stdout == ""
    data = json.loads(out.read_text())
    assert data["summary"]["findings"] > 30
    streams = [table.stdout, table.stderr, sarif.stdout, junit.stdout, out.read_text()]
    for value in corpus.secret_values():
        for stream in streams:
            assert value not in stream


def test_baseline_survives_line_shifts_and_another_checkout(
    scan_cli: ScanCli, tree: Path, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.sarif"
    first = scan_cli(
        "scan", str(tree), "--skip", "dependencies", "--format", "sarif", "-o", str(baseline)
    )
    assert first.returncode == 1
    moved = tmp_path / "checkout-b" / "elsewhere"
    shutil.copytree(tree, moved)
    for name in ("app/tool.py", "app/settings.py", "Dockerfile", "k8s/web.yaml"):
        path = moved / name
        path.write_text("# a new header comment\n\n" + path.read_text())
    again = scan_cli("scan", str(moved), "--skip", "dependencies", "--baseline", str(baseline))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 findings" in again.stderr
    assert "in the baseline" in again.stderr
    # a new finding is reported, alone
    (moved / "app" / "new.py").write_text(
        "import pickle\n\n\ndef load(b):\n    return pickle.loads(b)\n"
    )
    new = scan_cli(
        "scan",
        str(moved),
        "--skip",
        "dependencies",
        "--baseline",
        str(baseline),
        "--format",
        "json",
    )
    assert new.returncode == 1
    assert {f["rule_id"] for f in json.loads(new.stdout)["findings"]} == {"B403", "B301"}


def test_bad_input_is_reported_and_the_scan_goes_on(scan_cli: ScanCli, tmp_path: Path) -> None:
    root = tmp_path / "bad"
    root.mkdir()
    (root / "tool.py").write_text(VULNERABLE)
    (root / "loop-a").symlink_to("loop-b")
    (root / "loop-b").symlink_to("loop-a")
    (root / "blob.dat2").write_bytes(b"\x00\x01binary" * 100)
    (root / "huge.log").write_text("x" * (2 * 1024 * 1024))
    (root / "k8s.yaml").write_text("apiVersion: v1\nkind: Pod\nspec: {containers: [\n")
    result = scan_cli("scan", str(root), "--max-file-size", "1", "--skip", "dependencies")
    assert result.returncode == 1  # findings win over incomplete
    assert "Traceback" not in result.stderr
    assert "loop-a: cannot read: Too many levels of symbolic links" in result.stderr
    assert "huge.log: skipped: 2.0 MiB is over the size limit (1.0 MiB" in result.stderr
    assert "k8s.yaml:4: not checked: broken YAML" in result.stderr
    assert "note: 1 binary files skipped (e.g. blob.dat2)" in result.stderr
    assert "scan incomplete" in result.stderr
    assert "B602" in result.stdout
    (root / "tool.py").unlink()
    incomplete = scan_cli("scan", str(root), "--max-file-size", "1", "--skip", "dependencies")
    assert incomplete.returncode == 3, incomplete.stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(scan_cli: ScanCli, tmp_path: Path) -> None:
    secret = tmp_path / "locked.txt"
    secret.write_text("nothing\n")
    secret.chmod(0)
    result = scan_cli("scan", str(tmp_path))
    assert result.returncode == 3
    assert "locked.txt: cannot read: Permission denied" in result.stderr


def test_usage_errors(scan_cli: ScanCli, tmp_path: Path) -> None:
    missing = scan_cli("scan", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert "no such file or directory" in missing.stderr
    bad_baseline = tmp_path / "b.json"
    bad_baseline.write_text("{")
    result = scan_cli("scan", str(tmp_path), "--baseline", str(bad_baseline))
    assert result.returncode == 2
    assert "b.json:1: baseline is not JSON" in result.stderr
    assert scan_cli("scan", str(tmp_path), "--fail-on", "severe").returncode == 2
    both = scan_cli("scan", str(tmp_path), "--only", "code", "--skip", "code")
    assert both.returncode == 2
    assert "leave no scanner" in both.stderr
    table_file = scan_cli("scan", str(tmp_path), "-o", str(tmp_path / "x"))
    assert table_file.returncode == 2
    clean = scan_cli("scan", str(tmp_path))
    assert clean.returncode == 0, clean.stderr


def test_default_skips_and_excludes(tmp_path: Path) -> None:
    for name in ("node_modules/lib/x.py", ".venv/lib/y.py", "vendor/z.py", "src/a.py", "gen/b.py"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("exec(input())\n")
    report = run_scan(
        ScanOptions(root=tmp_path, scanners=frozenset({"code"}), exclude=("gen",), jobs=1)
    )
    assert {f.location.path for f in report.findings} == {"src/a.py"}
    everything = run_scan(
        ScanOptions(root=tmp_path, scanners=frozenset({"code"}), all_files=True, jobs=1)
    )
    assert len({f.location.path for f in everything.findings}) == 5


def test_two_workers_give_the_same_report_as_one(tmp_path: Path) -> None:
    for index in range(90):
        package = tmp_path / f"pkg{index % 9}"
        package.mkdir(exist_ok=True)
        (package / f"mod{index}.py").write_text(VULNERABLE + f"\nVALUE = {index}\n")
    corpus.write_cases(tmp_path, corpus.SECRETS)
    one = run_scan(ScanOptions(root=tmp_path, jobs=1))
    two = run_scan(ScanOptions(root=tmp_path, jobs=2))
    assert report_to_dict(one) == report_to_dict(two)
    assert one.stats["python_files"] >= 90
    fingerprints = [f.fingerprint for f in two.findings]
    assert len(fingerprints) == len(set(fingerprints))


def test_ctrl_c_stops_workers_without_tracebacks(tmp_path: Path) -> None:
    root = tmp_path / "big"
    table = "TABLE = {\n" + "".join(f'    "k{i}": "value {i}",\n' for i in range(3000)) + "}\n"
    for index in range(120):
        package = root / f"pkg{index % 6}"
        package.mkdir(parents=True, exist_ok=True)
        (package / f"mod{index}.py").write_text(VULNERABLE + table)
    env = dict(os.environ, NO_COLOR="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "opsforge", "scan", str(root), "-j", "2", "--only", "code"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        children_file = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        children: list[int] = []
        deadline = time.monotonic() + 120
        while len(children) < 2 and time.monotonic() < deadline:  # wait for the workers
            assert process.poll() is None, "the scan ended before it could be interrupted"
            time.sleep(0.2)
            children = [int(pid) for pid in children_file.read_text().split()]
        assert len(children) >= 2, "no worker processes"
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    for pid in children:
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )
