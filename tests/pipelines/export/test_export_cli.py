"""``opsforge pipeline export`` as a user runs it: files written atomically, refusing to
overwrite, stdout, the round-trip check, bad input with file:line and exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ..github.conftest import git

NATIVE = """\
stages: [build, test]
build:
  stage: build
  script: [echo build]
test:
  stage: test
  parallel:
    matrix:
      - PY: ["3.11", "3.12"]
  script: [echo "test $PY"]
"""


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "opsforge", "pipeline", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _project(repo: Path, text: str = NATIVE) -> None:
    (repo / "opsforge-pipeline.yml").write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "native")


def test_export_writes_checks_and_refuses_to_overwrite(repo: Path) -> None:
    _project(repo)
    done = _cli(repo, "export", "--to", "circleci")
    assert done.returncode == 0, done.stderr
    assert "checked: circleci loads it back with the same job graph" in done.stderr
    config = (repo / ".circleci" / "config.yml").read_text()
    assert "matrix:" in config
    assert "requires:" in config
    again = _cli(repo, "export", "--to", "circleci")
    assert again.returncode == 2
    assert "exists; give --force" in again.stderr
    assert (repo / ".circleci" / "config.yml").read_text() == config
    assert _cli(repo, "export", "--to", "circleci", "--force").returncode == 0
    assert not [p for p in (repo / ".circleci").iterdir() if p.name != "config.yml"]


def test_export_to_stdout_and_run_what_was_written(repo: Path) -> None:
    _project(repo)
    done = _cli(repo, "export", "--to", "jenkins", "-o", "-")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("// written by opsforge pipeline export")
    assert "axis { name 'PY'; values '3.11', '3.12' }" in done.stdout
    (repo / "Jenkinsfile").write_text(done.stdout)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "jenkinsfile")
    ran = _cli(repo, "run", "Jenkinsfile")
    assert ran.returncode == 0, ran.stderr
    assert "test 3.12" in ran.stdout + ran.stderr


def test_export_of_a_bad_file_names_the_line(repo: Path) -> None:
    _project(repo, "build:\n  stage: build\n  script: [echo build\n")
    done = _cli(repo, "export", "--to", "github")
    assert done.returncode == 2
    assert "opsforge-pipeline.yml:" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (repo / ".github" / "workflows" / "ci.yml").exists()
