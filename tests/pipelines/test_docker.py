"""The docker executor against a real, private dockerd and a local busybox image."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from opsforge.pipelines.runstate import RunSettings

from .conftest import ProjectFactory, log_text, run
from .dockerd import IMAGE


def test_job_with_an_image_runs_in_a_container(
    project: ProjectFactory, docker_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    root = project(
        f"""
        build:
          stage: build
          image: {IMAGE}
          variables: {{GREETING: hi}}
          script:
            - test -f /.dockerenv && echo "inside a container, $GREETING"
            - echo made > made.txt
          artifacts: {{paths: [made.txt]}}
        check:
          stage: test
          script: [cat made.txt]
        """
    )
    result = run(root)
    assert result.exit_code == 0, log_text(result, "build")
    assert result.records["build"].executor == "docker"
    assert "inside a container, hi" in log_text(result, "build")
    assert "made" in log_text(result, "check")


def test_container_gets_what_the_job_receives_not_this_machines_environment(
    project: ProjectFactory, docker_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    monkeypatch.setenv("LOCAL_ONLY_SECRETISH", "from-this-machine")
    root = project(
        f"""
        make-env:
          stage: build
          script: [echo "FROM_DOTENV=handed-on" > build.env]
          artifacts: {{reports: {{dotenv: build.env}}}}
        inside:
          stage: test
          image: {IMAGE}
          variables: {{OWN: mine}}
          script:
            - echo "own=$OWN dotenv=$FROM_DOTENV var=$FROM_CLI sha=${{CI_COMMIT_SHA:0:7}}"
            - echo "local=${{LOCAL_ONLY_SECRETISH:-unset}} path=$PATH"
        """
    )
    result = run(root, settings=RunSettings(variables={"FROM_CLI": "given"}))
    text = log_text(result, "inside")
    assert result.exit_code == 0, text
    assert result.records["inside"].executor == "docker"
    assert "own=mine dotenv=handed-on var=given sha=" in text
    assert "sha= " not in text  # the predefined CI_* variables are there
    assert "local=unset" in text  # this machine's own environment stays out
    assert f"path={os.environ['PATH']}" not in text  # the image's PATH, not ours


def test_timeout_removes_the_container(
    project: ProjectFactory, docker_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    root = project(f"slow:\n  image: {IMAGE}\n  timeout: 2s\n  script: [sleep 60]\n")
    result = run(root)
    assert result.records["slow"].status.value == "timed_out"
    left = subprocess.run(
        ["docker", "ps", "-aq", "--filter", "name=opsforge-"], capture_output=True, text=True,
        env={**os.environ, "DOCKER_HOST": docker_host}, check=True,
    )  # fmt: skip
    assert left.stdout.strip() == ""


def test_missing_image_falls_back_to_shell_with_one_warning(
    project: ProjectFactory, docker_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    root = project("a:\n  image: not-here/nothing:1\n  script: [echo ran]\n")
    result = run(root)
    text = log_text(result, "a")
    assert "image not-here/nothing:1 is not present locally" in text
    assert result.records["a"].executor == "shell"


def test_unreachable_dockerd_falls_back_to_shell(
    project: ProjectFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    root = project("a:\n  image: alpine:3\n  script: [echo ran-in-shell]\n")
    result = run(root)
    text = log_text(result, "a")
    assert "running a in the shell executor" in text
    assert "ran-in-shell" in text
    assert result.records["a"].executor == "shell"
