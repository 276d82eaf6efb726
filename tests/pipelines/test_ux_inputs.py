"""``--input NAME=VALUE`` on ``pipeline run/list/graph/explain``, as a user runs it."""

from __future__ import annotations

from pathlib import Path

from .conftest import ProjectFactory
from .test_cli import cli

WORKFLOW = """\
on:
  workflow_dispatch:
    inputs:
      environment:
        type: choice
        options: [staging, production]
        default: staging
      replicas:
        type: number
        default: 1
jobs:
  deploy:
    runs-on: ubuntu-latest
    if: inputs.environment == 'production'
    steps:
      - run: echo "deploying ${{ inputs.replicas }} to ${{ inputs.environment }}"
  smoke:
    runs-on: ubuntu-latest
    steps:
      - run: echo "smoke on ${{ inputs.environment }}"
"""

CONFIG = """\
version: 2.1
parameters:
  shard:
    type: enum
    enum: ["1", "2"]
    default: "1"
jobs:
  test:
    machine: true
    steps:
      - run: echo "shard << pipeline.parameters.shard >>"
workflows:
  ci:
    jobs: [test]
"""


def _row(table: str, job: str) -> str:
    return next(line for line in table.splitlines() if line.startswith(job + " "))


def test_github_inputs_reach_the_steps_and_decide_jobs(
    project: ProjectFactory, tmp_path: Path
) -> None:
    root = project(files={".github/workflows/deploy.yml": WORKFLOW})
    state = tmp_path / "state"
    args = ("--event", "workflow_dispatch", "--input", "environment=production")
    proc = cli(root, "pipeline", "run", "--in-place", *args, "--input", "replicas=3", state=state)
    assert proc.returncode == 0, proc.stderr
    assert "[deploy] deploying 3 to production" in proc.stdout
    assert "[smoke] smoke on production" in proc.stdout

    listed = cli(root, "pipeline", "list", *args, state=state)
    assert listed.returncode == 0, listed.stderr
    default = cli(root, "pipeline", "list", "--event", "workflow_dispatch", state=state)
    assert _row(listed.stdout, "deploy").split()[4] == "yes"
    assert "excluded" in _row(default.stdout, "deploy")  # the default: staging
    explained = cli(root, "pipeline", "explain", "deploy", *args, state=state)
    assert "if: inputs.environment == 'production' is true" in explained.stdout
    graph = cli(root, "pipeline", "graph", *args, state=state)
    assert "deploy" in graph.stdout


def test_bad_input_values_are_clear_errors(project: ProjectFactory, tmp_path: Path) -> None:
    root = project(files={".github/workflows/deploy.yml": WORKFLOW})
    state = tmp_path / "state"
    cases = [
        (("--input", "environment=qa"), ".github/workflows/deploy.yml:4", "one of the options"),
        (("--input", "replicas=many"), ".github/workflows/deploy.yml:8", "is not a number"),
        (("--input", "colour=red"), ".github/workflows/deploy.yml:1", "'colour' is not declared"),
        (("--input", "novalue"), "", "--input must be NAME=VALUE"),
    ]
    for args, where, words in cases:
        for command in ("run", "list"):
            event = ("--event", "workflow_dispatch")
            proc = cli(root, "pipeline", command, *event, *args, state=state)
            assert proc.returncode == 2, (args, proc.stderr)
            assert where in proc.stderr, proc.stderr
            assert words in proc.stderr, proc.stderr
            assert "Traceback" not in proc.stderr


def test_circleci_pipeline_parameters(project: ProjectFactory, tmp_path: Path) -> None:
    root = project(files={".circleci/config.yml": CONFIG})
    state = tmp_path / "state"
    proc = cli(root, "pipeline", "run", "--in-place", "--input", "shard=2", state=state)
    assert proc.returncode == 0, proc.stderr
    assert "[test] shard 2" in proc.stdout
    bad = cli(root, "pipeline", "run", "--input", "shard=3", state=state)
    assert bad.returncode == 2
    assert ".circleci/config.yml:3: pipeline parameter 'shard' must be one of 1, 2" in bad.stderr


GITLAB_INPUTS = """\
spec:
  inputs:
    environment:
      options: [staging, production]
      default: staging
    replicas:
      type: number
      default: 1
    canary:
      type: boolean
      default: false
    version:
      regex: ^v[0-9]+\\.[0-9]+$
    regions:
      type: array
      default: [eu]
---
deploy:
  script:
    - echo "deploy $[[ inputs.version ]] x$[[ inputs.replicas ]] to $[[ inputs.environment ]]"
    - echo "canary=$[[ inputs.canary ]] regions=$[[ inputs.regions ]]"
"""


def test_gitlab_pipeline_inputs(project: ProjectFactory, tmp_path: Path) -> None:
    """GitLab's pipeline inputs: ``spec:inputs`` in the header of .gitlab-ci.yml."""
    root = project(GITLAB_INPUTS)
    state = tmp_path / "state"
    args = ["--input", "version=v1.2", "--input", "replicas=3", "--input", "canary=true"]
    proc = cli(root, "pipeline", "run", "--in-place", *args, state=state)
    assert proc.returncode == 0, proc.stderr
    assert "deploy v1.2 x3 to staging" in proc.stdout
    assert 'canary=true regions=["eu"]' in proc.stdout
    proc = cli(
        root, "pipeline", "run", "--in-place", "--input", "version=v2.0",
        "--input", "regions=[eu, us]", "--input", "environment=production", state=state,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "deploy v2.0 x1 to production" in proc.stdout
    assert 'regions=["eu", "us"]' in proc.stdout
    for bad, words in [
        ([], ".gitlab-ci.yml:12: input 'version' is required (no default) and not given"),
        (["version=2.0"], ".gitlab-ci.yml:12: input 'version': '2.0' does not match"),
        (["version=v1.0", "replicas=many"], ".gitlab-ci.yml:6: input 'replicas' (number)"),
        (["version=v1.0", "canary=yes"], ".gitlab-ci.yml:9: input 'canary' (boolean)"),
        (["version=v1.0", "environment=prod"], ".gitlab-ci.yml:3: input 'environment' must be"),
        (["version=v1.0", "regions=eu"], ".gitlab-ci.yml:14: input 'regions' (array)"),
        (["version=v1.0", "nope=1"], "input 'nope' is not declared in spec:inputs"),
    ]:
        flags = [f for pair in bad for f in ("--input", pair)]
        proc = cli(root, "pipeline", "list", *flags, state=state)
        assert proc.returncode == 2, (bad, proc.stderr)
        assert words in proc.stderr, (bad, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_a_file_without_spec_inputs_refuses_them(project: ProjectFactory, tmp_path: Path) -> None:
    root = project("a:\n  script: [echo a]\n")
    proc = cli(root, "pipeline", "run", "--input", "x=1", state=tmp_path / "state")
    assert proc.returncode == 2
    assert "input 'x' given, but the file declares no spec:inputs" in proc.stderr


JENKINSFILE = """\
pipeline {
  agent any
  parameters {
    string(name: 'TARGET', defaultValue: 'staging')
    booleanParam(name: 'FULL', defaultValue: true)
    choice(name: 'REGION', choices: ['eu', 'us'])
  }
  stages {
    stage('show') {
      steps { sh "echo target=${params.TARGET} region=${params.REGION}" }
    }
    stage('full') {
      when { expression { params.FULL } }
      steps { sh 'echo full-run' }
    }
  }
}
"""


def test_jenkins_parameters(project: ProjectFactory, tmp_path: Path) -> None:
    root = project(files={"Jenkinsfile": JENKINSFILE})
    state = tmp_path / "state"
    given = ("--input", "TARGET=prod", "--input", "FULL=false", "--input", "REGION=us")
    proc = cli(root, "pipeline", "run", "--in-place", *given, state=state)
    assert proc.returncode == 0, proc.stderr
    assert "[show] target=prod region=us" in proc.stdout
    assert "full-run" not in proc.stdout  # a booleanParam given as false is false
    defaults = cli(root, "pipeline", "run", "--in-place", state=state)
    assert "[show] target=staging region=eu" in defaults.stdout
    assert "[full] full-run" in defaults.stdout
    for args, words in [
        (("--input", "FULL=yes"), "Jenkinsfile:5: booleanParam 'FULL': 'yes' is not true or false"),
        (("--input", "REGION=asia"), "Jenkinsfile:6: choice 'REGION': 'asia' is not one of eu, us"),
        (("--input", "OTHER=1"), "Jenkinsfile:3: parameter 'OTHER' is not declared"),
    ]:
        bad = cli(root, "pipeline", "list", *args, state=state)
        assert bad.returncode == 2, bad.stderr
        assert words in bad.stderr
