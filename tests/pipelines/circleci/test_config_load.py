"""CircleCI 2.1 configs into the model: parameters, commands, executors, workflows, matrix,
filters, approval jobs, orbs; bad input with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.model import When

from ..github.conftest import git, load

CONFIG = """\
version: 2.1
orbs:
  node: circleci/node@5.2
parameters:
  deploy:
    type: boolean
    default: false
executors:
  py:
    parameters:
      tag: {type: string, default: "3.12"}
    docker:
      - image: cimg/python:<< parameters.tag >>
      - image: postgres:16
    environment:
      FROM_EXECUTOR: "yes"
commands:
  greet:
    parameters:
      to: {type: string, default: world}
      loud: {type: boolean, default: false}
    steps:
      - run: echo "hello << parameters.to >> << parameters.loud >>"
      - when:
          condition: << parameters.loud >>
          steps:
            - run: echo LOUD
jobs:
  build:
    executor: {name: py, tag: "3.11"}
    environment:
      FROM_JOB: "1"
    steps:
      - checkout
      - greet: {to: build}
      - persist_to_workspace: {root: ., paths: [dist]}
  test:
    parameters:
      py: {type: string}
      mode: {type: enum, enum: [fast, full], default: fast}
    docker: [{image: cimg/python:<< parameters.py >>}]
    steps:
      - attach_workspace: {at: .}
      - run:
          name: tests
          command: echo << parameters.py >> << parameters.mode >> << pipeline.git.branch >>
      - store_test_results: {path: reports}
      - store_artifacts: {path: dist}
  ship:
    machine: true
    steps:
      - node/install
      - run: echo ship
workflows:
  main:
    jobs:
      - build
      - test:
          requires: [build]
          matrix:
            parameters:
              py: ["3.11", "3.12"]
              mode: [fast, full]
            exclude:
              - {py: "3.11", mode: full}
      - hold:
          type: approval
          requires: [test]
      - ship:
          requires: [hold]
          filters:
            branches:
              only: [main, /release-.*/]
      - node/test:
          requires: [build]
"""


def _write(root: Path, text: str) -> Path:
    (root / ".circleci").mkdir(exist_ok=True)
    path = root / ".circleci" / "config.yml"
    path.write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "config")
    return path


def test_config_into_jobs(repo: Path) -> None:
    pipeline = load(repo, _write(repo, CONFIG), "circleci")
    assert pipeline.job_names == (
        "build",
        "test-3.11-fast",
        "test-3.12-fast",
        "test-3.12-full",
        "hold",
        "ship",
    )
    build = pipeline.job("build")
    assert build.image is not None
    assert build.image.name == "cimg/python:3.11"
    assert [s.name for s in build.services] == ["postgres:16"]
    assert build.variables["FROM_EXECUTOR"].value == "yes"
    assert build.variables["CIRCLE_BRANCH"].value == "main"
    assert [s.run for s in build.steps if s.kind == "shell"] == ['echo "hello build false"']
    assert [s.kind for s in build.steps] == ["checkout", "shell", "upload_artifact"]
    test = pipeline.job("test-3.12-full")
    assert test.need_names() == ("build",)
    assert dict(test.matrix) == {"py": "3.12", "mode": "full"}
    assert test.matrix_of == "test"
    assert [s.run for s in test.steps if s.kind == "shell"] == ["echo 3.12 full main"]
    attach = test.steps[0]
    assert attach.kind == "download_artifact"
    assert dict(attach.params) == {"name": "workspace-build", "path": "."}
    assert test.artifacts is not None
    assert test.artifacts.paths == ("dist",)
    assert test.artifacts.reports["junit"] == ("reports/**/*.xml",)
    hold = pipeline.job("hold")
    assert hold.when is When.MANUAL
    assert hold.need_names() == ("test-3.11-fast", "test-3.12-fast", "test-3.12-full")
    assert pipeline.job("ship").need_names() == ("hold",)
    assert [e.name for e in pipeline.excluded] == ["node/test"]
    messages = [m for m, _ in pipeline.warnings]
    assert any("orb node (circleci/node@5.2) is not resolved" in m for m in messages)
    assert any("orb command 'node/install' is not resolved" in m for m in messages)


def test_branch_filters_and_tags(repo: Path) -> None:
    path = _write(repo, CONFIG)
    on_feature = load(repo, path, "circleci", ref="feature-x")
    assert "ship" not in on_feature.job_names
    reasons = {e.name: e.reason for e in on_feature.excluded}
    assert "does not match filters.branches.only" in reasons["ship"]
    assert "ship" in load(repo, path, "circleci", ref="release-2").job_names
    git(repo, "tag", "v1.0")
    on_tag = load(repo, path, "circleci", ref="refs/tags/v1.0")
    assert on_tag.job_names == ()
    assert "jobs run for tags only with filters.tags.only" in on_tag.excluded[0].reason


def test_multiple_workflows_prefix_names_and_when(repo: Path) -> None:
    path = _write(
        repo,
        """\
version: 2.1
parameters:
  nightly: {type: boolean, default: false}
jobs:
  a: {docker: [{image: x}], steps: [{run: echo a}]}
workflows:
  ci:
    jobs: [a]
  nightly:
    when: << pipeline.parameters.nightly >>
    jobs: [a]
""",
    )
    pipeline = load(repo, path, "circleci")
    assert pipeline.job_names == ("ci/a",)
    assert pipeline.excluded[0].name == "nightly/a"
    assert load(repo, path, "circleci", inputs={"nightly": "true"}).job_names == (
        "ci/a",
        "nightly/a",
    )


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        (
            "jobs:\n  a:\n    docker: [{image: x}]\n    steps:\n      - greet\n"
            "workflows:\n  w:\n    jobs: [a]\n",
            5,
            "unknown step or command 'greet'",
        ),
        (
            "commands:\n  c:\n    parameters:\n      to: {type: string}\n    steps: [{run: x}]\n"
            "jobs:\n  a:\n    docker: [{image: x}]\n    steps:\n      - c\n"
            "workflows:\n  w:\n    jobs: [a]\n",
            10,
            "command 'c': missing required parameter 'to'",
        ),
        (
            "jobs:\n  a:\n    parameters:\n      n: {type: integer}\n    docker: [{image: x}]\n"
            "    steps: [{run: x}]\nworkflows:\n  w:\n    jobs:\n      - a: {n: lots}\n",
            4,
            "parameter 'n' must be an integer",
        ),
        (
            "jobs:\n  a:\n    docker: [{image: x}]\n    steps:\n"
            "      - run: echo << parameters.z >>\n"
            "workflows:\n  w:\n    jobs: [a]\n",
            5,
            "<< parameters.z >> is not defined",
        ),
        (
            "jobs:\n  a:\n    docker: [{image: x}]\n    steps: [{run: x}]\nworkflows:\n  w:\n"
            "    jobs:\n      - a: {requires: [nope]}\n",
            8,
            "requires unknown job 'nope'",
        ),
        (
            "jobs:\n  a:\n    docker: [{image: x}]\n    steps:\n"
            "      - save_cache: {key: 'v1-{{ nonsense }}', paths: [x]}\n"
            "workflows:\n  w:\n    jobs: [a]\n",
            5,
            "unknown cache key template {{ nonsense }}",
        ),
        (
            "jobs:\n  a:\n    docker: [{image: x}]\n    stepz: []\n"
            "workflows:\n  w:\n    jobs: [a]\n",
            4,
            "unknown job key 'stepz'",
        ),
        (
            "jobs:\n  a: {docker: [{image: x}], steps: [{run: x}]}\nworkflows:\n  w:\n"
            "    jobs:\n      - a: {name: a1, requires: [a2]}\n"
            "      - a: {name: a2, requires: [a1]}\n",
            6,
            "requires form a cycle: a1 -> a2 -> a1",
        ),
    ],
)
def test_bad_input(repo: Path, body: str, line: int, message: str) -> None:
    path = _write(repo, "version: 2.1\n" + body)
    with pytest.raises(PipelineError) as info:
        load(repo, path, "circleci")
    assert message in str(info.value)
    assert str(info.value).startswith(f".circleci/config.yml:{line + 1}: "), str(info.value)
