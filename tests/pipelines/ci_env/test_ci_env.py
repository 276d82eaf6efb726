"""CI detection from each system's variables, and the text of their log conventions."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from opsforge.pipelines.ci_env import CISystem, detect

GITHUB = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_REF_NAME": "main",
    "GITHUB_SHA": "abc",
    "GITHUB_REPOSITORY": "o/r",
    "GITHUB_RUN_ID": "42",
    "GITHUB_JOB": "build",
}
GITLAB = {
    "GITLAB_CI": "true",
    "CI": "true",
    "CI_COMMIT_BRANCH": "dev",
    "CI_COMMIT_SHA": "def",
    "CI_JOB_URL": "https://gitlab.example/j/1",
    "CI_JOB_NAME": "test",
}
CIRCLE = {
    "CIRCLECI": "true",
    "CIRCLE_BRANCH": "feat",
    "CIRCLE_SHA1": "123",
    "CIRCLE_BUILD_URL": "https://circleci.example/b/7",
    "CIRCLE_JOB": "lint",
}
JENKINS = {
    "JENKINS_URL": "https://jenkins.example/",
    "BRANCH_NAME": "rel",
    "GIT_COMMIT": "456",
    "BUILD_URL": "https://jenkins.example/job/x/3/",
    "JOB_NAME": "x",
}


@pytest.mark.parametrize(
    ("env", "want"),
    [
        (
            GITHUB,
            CISystem("github", "main", "abc", "https://github.com/o/r/actions/runs/42", "build"),
        ),
        (GITLAB, CISystem("gitlab", "dev", "def", "https://gitlab.example/j/1", "test")),
        (CIRCLE, CISystem("circleci", "feat", "123", "https://circleci.example/b/7", "lint")),
        (JENKINS, CISystem("jenkins", "rel", "456", "https://jenkins.example/job/x/3/", "x")),
        ({"JENKINS_HOME": "/var/jenkins", "BUILD_ID": "9"}, CISystem("jenkins")),
        ({"CI": "true"}, None),
        ({"GITHUB_ACTIONS": "false"}, None),
        ({}, None),
    ],
)
def test_detect(env: dict[str, str], want: CISystem | None) -> None:
    assert detect(env) == want


def test_github_commands_escape_data_and_properties() -> None:
    gh = CISystem("github")
    assert gh.group_start("job build") == "::group::job build"
    assert gh.group_end("job build") == "::endgroup::"
    assert gh.error("50% done\nthen failed", path="a,b:c.yml", line=3, title="t") == (
        "::error file=a%2Cb%3Ac.yml,line=3,title=t::50%25 done%0Athen failed"
    )
    assert gh.warning("careful") == "::warning::careful"
    assert gh.mask("s3cr3t") == "::add-mask::s3cr3t"
    assert gh.mask("") is None


def test_gitlab_sections_and_errors() -> None:
    gl = CISystem("gitlab")
    assert gl.group_start("job: build 1/2", now=1700000000) == (
        "\x1b[0Ksection_start:1700000000:job__build_1_2[collapsed=true]\r\x1b[0Kjob: build 1/2"
    )
    assert gl.group_end("job: build 1/2", now=1700000005) == (
        "\x1b[0Ksection_end:1700000005:job__build_1_2\r\x1b[0K"
    )
    assert gl.error("boom", path="ci.yml", line=2) == "\x1b[31;1mERROR: ci.yml:2: boom\x1b[0m"
    assert gl.mask("x") is None


@pytest.mark.parametrize("name", ["circleci", "jenkins"])
def test_plain_systems(name: str) -> None:
    system = CISystem(name)
    assert system.error("boom", path="Jenkinsfile", line=4) == "ERROR: Jenkinsfile:4: boom"
    assert system.warning("hm") == "WARNING: hm"
    assert system.group_start("x") == "--- x"
    assert system.mask("v") is None


def test_detected_in_a_real_process_from_its_environment() -> None:
    code = (
        "from opsforge.pipelines.ci_env import detect; s = detect(); "
        "print(s.name if s else 'none'); print(s.error('bad', path='f', line=1) if s else '')"
    )
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "JENKINS_URL", "JENKINS_HOME")
    }
    for extra, first, second in [
        (GITHUB, "github", "::error file=f,line=1::bad"),
        (JENKINS, "jenkins", "ERROR: f:1: bad"),
        ({}, "none", ""),
    ]:
        done = subprocess.run(
            [sys.executable, "-c", code],
            env={**base, **extra},
            capture_output=True,
            text=True,
            check=True,
        )
        assert done.stdout.splitlines() == [first, second]
