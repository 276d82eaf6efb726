"""Dependencies against an offline OSV database: lock files, environments, ranges."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsforge.engine.exitcodes import ExitCode
from opsforge.security import Severity, exit_code
from opsforge.security.scan import ScanOptions, run_scan
from opsforge.security.scan.advisories import load_advisory_db

from . import osv_fixture
from .conftest import ScanCli


def dep_scan(
    root: Path, db: Path | None, **kw: object
) -> tuple[set[tuple[str, str, str, int | None]], list[str]]:
    report = run_scan(
        ScanOptions(root=root, scanners=frozenset({"dependencies"}), db=db, jobs=1, **kw)  # type: ignore[arg-type]
    )
    found = set()
    for f in report.findings:
        package = f.message.split(" ", 1)[0]
        found.add((f.location.path or "", package, f.rule_id, f.location.line))
    return found, [str(p) for p in report.problems]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return osv_fixture.write_project(tmp_path / "project")


@pytest.fixture
def db_dir(tmp_path: Path) -> Path:
    return osv_fixture.write_db_dir(tmp_path / "advisory-db")


def test_lock_files_against_a_directory_db(project: Path, db_dir: Path) -> None:
    found, problems = dep_scan(project, db_dir)
    assert found == osv_fixture.EXPECTED
    assert set(problems) == {
        "requirements.txt:9: not checked: numpy is not pinned to one version ('>=1.0'); pin it "
        "(==) or scan the lock file or installed environment",
        "poetry.lock:11: not checked: internal-lib comes from a VCS/URL source",
    }


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_archives_give_the_same_findings(
    project: Path, db_dir: Path, tmp_path: Path, kind: str
) -> None:
    if kind == "zip":
        db = osv_fixture.write_db_zip(tmp_path / "all.zip")
    else:
        db = osv_fixture.write_db_tar(tmp_path / "db.tar.gz", db_dir)
    assert dep_scan(project, db)[0] == osv_fixture.EXPECTED


def test_severity_from_label_or_cvss_and_remediation(project: Path, db_dir: Path) -> None:
    report = run_scan(
        ScanOptions(root=project, scanners=frozenset({"dependencies"}), db=db_dir, jobs=1)
    )
    by_rule = {(f.location.path, f.rule_id): f for f in report.findings}
    requests = by_rule[("requirements.txt", "OPSF-TEST-0001")]
    assert requests.severity is Severity.MEDIUM  # MODERATE
    assert requests.remediation == "Upgrade requests to 2.20.0 or later."
    assert "CVE-2018-18074" in requests.message
    assert requests.help_uri == "https://example.org/OPSF-TEST-0001"
    assert by_rule[("requirements.txt", "OPSF-TEST-0002")].severity is Severity.CRITICAL  # CVSS 9.8
    django = by_rule[("requirements.txt", "OPSF-TEST-0005")]
    assert django.remediation == "Upgrade django to 4.1.9 or later."  # the fix above 4.0.5
    jinja = by_rule[("uv.lock", "OPSF-TEST-0003")]
    assert jinja.remediation.startswith("No fixed release is listed")


def test_range_semantics(db_dir: Path) -> None:
    db = load_advisory_db(db_dir)
    assert [a.id for a in db.match("Django", "3.2.18")] == ["OPSF-TEST-0005"]
    assert db.match("django", "3.2.19") == []
    assert db.match("django", "3.1") == []
    assert db.match("django", "4.1.8") != []
    assert db.match("Jinja2", "2.11.2") != []  # last_affected is inclusive
    assert db.match("jinja2", "2.11.3") == []
    assert db.match("jinja2", "1.9") == []  # before introduced
    assert db.match("urllib3", "1.26.4") != []  # explicit versions
    assert db.match("urllib3", "1.26.5") == []
    assert db.match("flask", "0.12") == []  # withdrawn
    assert db.match("requests", "2.20.0rc1") != []  # pre-release before the fix
    assert db.match("python-requests", "1.0") == []


def test_installed_environment(tmp_path: Path, db_dir: Path) -> None:
    venv = tmp_path / "venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    osv_fixture.write_site_packages(site, {"requests": "2.19.1", "urllib3": "2.2.0"})
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    found, problems = dep_scan(empty, db_dir, envs=(venv,))
    assert {(package, rule) for _, package, rule, _ in found} == {("requests", "OPSF-TEST-0001")}
    assert problems == []


def test_site_packages_tree_is_an_installed_environment(tmp_path: Path, db_dir: Path) -> None:
    site = osv_fixture.write_site_packages(tmp_path / "site", {"PyYAML": "5.3.1"})
    found, _ = dep_scan(site, db_dir)
    assert found == {("PyYAML-5.3.1.dist-info/METADATA", "PyYAML", "OPSF-TEST-0002", None)}


def test_missing_database_is_an_incomplete_scan_never_a_pass(project: Path, tmp_path: Path) -> None:
    for db in (None, tmp_path / "nowhere"):
        report = run_scan(
            ScanOptions(root=project, scanners=frozenset({"dependencies"}), db=db, jobs=1)
        )
        assert report.findings == ()
        assert exit_code(report, Severity.LOW) is ExitCode.UNREACHABLE
        assert "pinned packages not checked" in str(report.problems[-1])


def test_bad_inputs(tmp_path: Path, db_dir: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "poetry.lock").write_text("[[package]\nname = 'x'\n")
    (root / "requirements-dev.txt").write_text("pytest==8.x.y\n")
    (db_dir / "broken.json").write_text("{not json")
    found, problems = dep_scan(root, db_dir)
    assert found == set()
    assert any(p.startswith("poetry.lock: not checked: broken TOML") for p in problems)
    assert "requirements-dev.txt:1: not checked: pytest 8.x.y is not a PEP 440 version" in problems
    assert any("1 records unreadable" in p for p in problems)


def test_cli_exit_codes_and_fail_on(scan_cli: ScanCli, project: Path, db_dir: Path) -> None:
    (project / "requirements.txt").write_text("requests==2.19.1\n")
    for name in ("poetry.lock", "uv.lock", "Pipfile.lock"):
        (project / name).unlink()
    medium = scan_cli("scan", str(project), "--only", "dependencies", "--db", str(db_dir))
    assert medium.returncode == 1, medium.stderr
    assert "OPSF-TEST-0001" in medium.stdout
    high = scan_cli(
        "scan", str(project), "--only", "dependencies", "--db", str(db_dir), "--fail-on", "high"
    )
    assert high.returncode == 0, high.stderr
    missing = scan_cli("scan", str(project), "--only", "dependencies")
    assert missing.returncode == 3
    assert "no advisory database" in missing.stderr
    assert "Traceback" not in missing.stderr


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real ``python -m http.server`` on 127.0.0.1 serving a directory; stopped by PID."""
    served = tmp_path / "served"
    served.mkdir()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            "0",
            "--bind",
            "127.0.0.1",
            "--directory",
            str(served),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N ..."
        port = int(line.split(" port ")[1].split()[0])
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield url, served
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_update_db_fetches_atomically_and_is_used(
    scan_cli: ScanCli, http_server: tuple[str, Path], project: Path, tmp_path: Path
) -> None:
    url, served = http_server
    osv_fixture.write_db_zip(served / "all.zip")
    (served / "not-a-db.zip").write_text("<html>captive portal</html>")
    dest = tmp_path / "db" / "osv.zip"
    bad = scan_cli("scan", "--update-db", "--db", str(dest), "--db-url", f"{url}/not-a-db.zip")
    assert bad.returncode == 3, bad.stderr
    assert "did not give an OSV advisory archive" in bad.stderr
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []  # nothing half-written
    ok = scan_cli("scan", "--update-db", "--db", str(dest), "--db-url", f"{url}/all.zip")
    assert ok.returncode == 0, ok.stderr
    assert "advisory database updated: 7 records" in ok.stderr
    env = {"OPSFORGE_ADVISORY_DB": str(dest)}
    scan = scan_cli("scan", str(project), "--only", "dependencies", "--format", "json", env=env)
    assert scan.returncode == 1, scan.stderr
    rules = {f["rule_id"] for f in json.loads(scan.stdout)["findings"]}
    assert rules == {
        "OPSF-TEST-0001",
        "OPSF-TEST-0002",
        "OPSF-TEST-0003",
        "OPSF-TEST-0004",
        "OPSF-TEST-0005",
    }


def test_update_db_unreachable(scan_cli: ScanCli, tmp_path: Path) -> None:
    dest = tmp_path / "osv.zip"
    result = scan_cli(
        "scan", "--update-db", "--db", str(dest), "--db-url", "http://127.0.0.1:9/all.zip"
    )
    assert result.returncode == 3
    assert "cannot fetch the advisory database from http://127.0.0.1:9/all.zip" in result.stderr
    assert not dest.exists()
    assert shutil.which("git")  # the scan tests also need git (history)
