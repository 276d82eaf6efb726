"""CircleCI configs really run: workspaces between isolated workdirs, checksum-keyed
caches (miss, then hit), command parameters, matrix instances, manual approval."""

from __future__ import annotations

from pathlib import Path

from opsforge.pipelines.records import JobStatus

from ..github.conftest import git, load, log_of, run

CONFIG = """\
version: 2.1
commands:
  build-dist:
    parameters:
      flavour: {type: enum, enum: [plain, fancy], default: plain}
    steps:
      - run: mkdir -p dist && echo "built << parameters.flavour >> on $CIRCLE_BRANCH" > dist/app.txt
jobs:
  build:
    docker: [{image: cimg/base:current}]
    steps:
      - checkout
      - restore_cache:
          keys:
            - deps-v1-{{ checksum "deps.lock" }}
            - deps-v1-
      - run: |
          if [ -f .deps/installed ]; then echo "deps from cache: $(cat .deps/installed)"
          else mkdir -p .deps && echo "fresh $(cat deps.lock)" > .deps/installed; fi
      - save_cache:
          key: deps-v1-{{ checksum "deps.lock" }}
          paths: [.deps]
      - build-dist: {flavour: fancy}
      - persist_to_workspace: {root: ., paths: [dist]}
  test:
    parameters:
      shard: {type: integer}
    docker: [{image: cimg/base:current}]
    steps:
      - attach_workspace: {at: .}
      - run: |
          cat dist/app.txt
          mkdir -p reports
          printf '<testsuite name="s<< parameters.shard >>" tests="1">' > reports/r.xml
          printf '<testcase name="t"/></testsuite>' >> reports/r.xml
      - store_test_results: {path: reports}
workflows:
  main:
    jobs:
      - build
      - test:
          requires: [build]
          matrix: {parameters: {shard: [1, 2]}}
      - approve:
          type: approval
          requires: [test]
"""


def _project(repo: Path) -> Path:
    (repo / ".circleci").mkdir()
    path = repo / ".circleci" / "config.yml"
    path.write_text(CONFIG)
    (repo / "deps.lock").write_text("requests==2.32\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "circleci")
    return path


def test_workspace_cache_and_matrix(repo: Path) -> None:
    path = _project(repo)
    first = run(repo, load(repo, path, "circleci"))
    status = {name: r.status for name, r in first.records.items()}
    assert status == {
        "build": JobStatus.SUCCESS,
        "test-1": JobStatus.SUCCESS,
        "test-2": JobStatus.SUCCESS,
        "approve": JobStatus.MANUAL,
    }
    build_log = log_of(first.records["build"])
    assert "deps from cache: fresh" not in build_log
    for name in ("test-1", "test-2"):
        assert "built fancy on main" in log_of(first.records[name])
        assert len(first.records[name].junit_reports) == 1

    second = run(repo, load(repo, path, "circleci"))
    assert "deps from cache: fresh requests==2.32" in log_of(second.records["build"])

    (repo / "deps.lock").write_text("requests==2.33\n")
    git(repo, "commit", "-q", "-am", "bump")
    third = run(repo, load(repo, path, "circleci"))
    # a new checksum misses the exact key, the prefix key restores the older cache
    assert "deps from cache: fresh requests==2.32" in log_of(third.records["build"])
    assert "cache restored from key deps-v1-" in log_of(third.records["build"])


def test_approval_job_runs_when_named(repo: Path) -> None:
    path = _project(repo)
    result = run(repo, load(repo, path, "circleci"), jobs=("approve",))
    assert result.records["approve"].status is JobStatus.SUCCESS
    assert result.records["build"].status is JobStatus.SUCCESS
