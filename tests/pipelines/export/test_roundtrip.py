"""native → each system's file → that system's importer → the same job graph; and the
exported files run."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.pipelines.export import TARGETS, default_path, export_pipeline, graph_signature
from opsforge.pipelines.model import Pipeline, Service
from opsforge.pipelines.records import JobStatus

from ..github.conftest import git, load, log_of, run

NATIVE = """\
stages: [build, test, deploy]
variables:
  APP: demo
build:
  stage: build
  script:
    - mkdir -p dist
    - echo "$APP built" > dist/app.txt
  artifacts:
    paths: [dist]
unit:
  stage: test
  parallel:
    matrix:
      - PY: ["3.11", "3.12"]
  script:
    - cat dist/app.txt
    - echo "unit on $PY"
lint:
  stage: test
  timeout: 5 minutes
  script:
    - echo lint
deploy:
  stage: deploy
  script:
    - echo "deploy $APP"
"""

DAG = """\
stages: [one, two]
a:
  stage: one
  script: [echo a]
b:
  stage: one
  script: [echo b]
c:
  stage: two
  needs: [a]
  script: [echo c]
"""

IMPORTER = {"gitlab": "gitlab", "github": "github", "circleci": "circleci", "jenkins": "jenkins"}


def _native(repo: Path, text: str) -> Path:
    path = repo / "opsforge-pipeline.yml"
    path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "native")
    return path


def _export(repo: Path, native: Pipeline, target: str) -> tuple[Path, tuple[str, ...]]:
    exported = export_pipeline(native, target)
    out = repo / default_path(target, native)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(exported.text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"export {target}")
    return out, exported.warnings


@pytest.mark.parametrize("target", TARGETS)
def test_round_trip_keeps_the_job_graph(repo: Path, target: str) -> None:
    native = load(repo, _native(repo, NATIVE), "native")
    path, _ = _export(repo, native, target)
    imported = load(repo, path, IMPORTER[target])
    assert graph_signature(imported) == graph_signature(native)
    assert len(imported.jobs) == 5
    assert not imported.excluded


@pytest.mark.parametrize("target", ["gitlab", "github", "circleci"])
def test_round_trip_of_a_dag(repo: Path, target: str) -> None:
    native = load(repo, _native(repo, DAG), "native")
    path, _ = _export(repo, native, target)
    assert graph_signature(load(repo, path, IMPORTER[target])) == graph_signature(native)


def test_jenkins_says_when_a_dag_gains_a_barrier(repo: Path) -> None:
    native = load(repo, _native(repo, DAG), "native")
    path, warnings = _export(repo, native, "jenkins")
    imported = load(repo, path, "jenkins")
    assert graph_signature(imported) != graph_signature(native)
    assert any("c: runs after every earlier stage in Jenkins (also b)" in w for w in warnings)


@pytest.mark.parametrize("target", ["gitlab", "github", "circleci"])
def test_exported_files_run_and_hand_artifacts_on(repo: Path, target: str) -> None:
    path, _ = _export(repo, load(repo, _native(repo, NATIVE), "native"), target)
    result = run(repo, load(repo, path, IMPORTER[target]))
    statuses = {name: r.status for name, r in result.records.items()}
    assert set(statuses.values()) == {JobStatus.SUCCESS}, statuses
    logs = "".join(log_of(r) for r in result.records.values())
    assert "demo built" in logs
    assert "unit on 3.11" in logs
    assert "unit on 3.12" in logs
    assert "deploy demo" in logs


def test_exported_jenkinsfile_runs_and_stashes_artifacts(repo: Path) -> None:
    path, _ = _export(repo, load(repo, _native(repo, NATIVE), "native"), "jenkins")
    text = path.read_text()
    assert "stash name: 'build', includes: 'dist/**'" in text
    assert "unstash 'build'" in text
    result = run(repo, load(repo, path, "jenkins"))
    assert {r.status for r in result.records.values()} == {JobStatus.SUCCESS}
    logs = "".join(log_of(r) for r in result.records.values())
    assert "unit on 3.12" in logs
    assert logs.count("demo built") == 2


def test_unknown_target(repo: Path) -> None:
    from opsforge.errors import UsageError

    native = load(repo, _native(repo, DAG), "native")
    with pytest.raises(UsageError, match="targets: gitlab, github, circleci, jenkins"):
        export_pipeline(native, "travis")


def test_exporting_a_workflow_with_expressions_says_so(repo: Path) -> None:
    path = repo / ".github" / "workflows" / "w.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.sha }}\n"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "wf")
    exported = export_pipeline(load(repo, path, "github"), "gitlab")
    assert any("decided at run time in github" in w for w in exported.warnings)


SERVICES = """\
stages: [test]
test:
  stage: test
  image: busybox:latest
  services:
    - name: postgres:16
      alias: db
      variables: {POSTGRES_PASSWORD: pw}
    - redis:7
  script: [echo hi]
"""


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (
            "gitlab",
            (
                Service("postgres:16", alias="db", variables={"POSTGRES_PASSWORD": "pw"}),
                Service("redis:7"),
            ),
        ),
        (
            "github",
            (
                Service("postgres:16", alias="db", variables={"POSTGRES_PASSWORD": "pw"}),
                Service("redis:7", alias="redis"),  # GitHub names every service
            ),
        ),
        (
            "circleci",
            (
                Service("postgres:16", alias="db", variables={"POSTGRES_PASSWORD": "pw"}),
                Service("redis:7"),
            ),
        ),
    ],
)
def test_services_survive_the_round_trip(
    repo: Path, target: str, expected: tuple[Service, ...]
) -> None:
    native = load(repo, _native(repo, SERVICES), "native")
    path, warnings = _export(repo, native, target)
    (job,) = load(repo, path, IMPORTER[target]).jobs
    assert job.services == expected
    assert not [w for w in warnings if "service" in w]


def test_jenkins_says_services_are_left_out(repo: Path) -> None:
    native = load(repo, _native(repo, SERVICES), "native")
    _, warnings = _export(repo, native, "jenkins")
    assert any(
        "services (postgres:16, redis:7) have no declarative equivalent" in w for w in warnings
    )
