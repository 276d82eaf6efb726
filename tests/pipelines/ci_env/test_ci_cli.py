"""opsforge run inside a CI system (its variables set): masks, annotations, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..github.conftest import git

CI_VARS = ("GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "JENKINS_URL", "JENKINS_HOME")


def _cli(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in CI_VARS}
    return subprocess.run(
        [sys.executable, "-m", "opsforge", "pipeline", *args],
        cwd=root,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _project(repo: Path, text: str) -> None:
    (repo / ".gitlab-ci.yml").write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "ci")


def test_github_gets_masks_and_failure_annotations(repo: Path) -> None:
    _project(repo, 'ok:\n  script: [echo fine]\nbroken:\n  script: [echo "$TOKEN", exit 4]\n')
    done = _cli(repo, {"GITHUB_ACTIONS": "true"}, "run", "--secret", "TOKEN=hunter2-secret")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert "::add-mask::hunter2-secret" in lines
    errors = [line for line in lines if line.startswith("::error")]
    assert len(errors) == 1
    assert errors[0].startswith("::error title=opsforge%3A broken::job broken failed:")
    assert "hunter2-secret" not in "\n".join(line for line in lines if "add-mask" not in line)


def test_github_annotates_a_bad_file_on_its_line(repo: Path) -> None:
    _project(repo, "job:\n  script: [echo x\n")
    done = _cli(repo, {"GITHUB_ACTIONS": "true"}, "list")
    assert done.returncode == 2
    assert done.stdout.startswith("::error file=.gitlab-ci.yml,line=")


def test_outside_ci_and_in_gitlab_stdout_has_no_github_commands(repo: Path) -> None:
    _project(repo, "broken:\n  script: [exit 3]\n")
    plain = _cli(repo, {}, "run")
    gitlab = _cli(repo, {"GITLAB_CI": "true"}, "run")
    assert plain.returncode == gitlab.returncode == 1
    assert "::" not in plain.stdout
    assert "ERROR:" not in plain.stdout
    assert "\x1b[31;1mERROR: job broken failed" in gitlab.stdout
