"""Loading workflows into the model: matrix, runs-on, needs, if:, bad input with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.model import When

from .conftest import load, write_workflow

MATRIX = """\
name: CI
on: [push]
jobs:
  test:
    runs-on: ${{ matrix.os }}
    strategy:
      fail-fast: false
      matrix:
        os: [ubuntu-latest, windows-latest]
        py: ['3.11', '3.12']
        exclude:
          - {os: ubuntu-latest, py: '3.12'}
        include:
          - {py: '3.11', extra: yes}
          - {os: ubuntu-latest, py: '3.13'}
    steps:
      - run: echo ${{ matrix.py }}
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: echo lint
  report:
    needs: [test, lint]
    runs-on: ubuntu-latest
    steps:
      - run: echo done
"""


def test_matrix_cells_names_needs_and_runs_on(repo: Path) -> None:
    pipeline = load(repo, write_workflow(repo, MATRIX))
    assert pipeline.format == "github"
    assert pipeline.job_names == (
        "test (ubuntu-latest, 3.11, yes)",
        "test (ubuntu-latest, 3.13)",
        "lint",
        "report",
    )
    excluded = {e.name: e.reason for e in pipeline.excluded}
    assert set(excluded) == {"test (windows-latest, 3.11, yes)", "test (windows-latest, 3.12)"}
    assert "does not match this host" in excluded["test (windows-latest, 3.12)"]
    cell = pipeline.job("test (ubuntu-latest, 3.11, yes)")
    assert dict(cell.matrix) == {"os": "ubuntu-latest", "py": "3.11", "extra": "yes"}
    assert cell.matrix_of == "test"
    assert cell.fail_fast is False
    assert cell.source is not None
    assert cell.source.line == 4
    assert pipeline.job("report").need_names() == (
        "test (ubuntu-latest, 3.11, yes)",
        "test (ubuntu-latest, 3.13)",
        "lint",
    )
    assert pipeline.job("lint").needs == ()
    assert pipeline.job("lint").timeout == 360 * 60


def test_static_if_leaves_a_job_out_and_runtime_if_becomes_a_check(repo: Path) -> None:
    path = write_workflow(
        repo,
        """\
on: push
jobs:
  tags-only:
    if: startsWith(github.ref, 'refs/tags/')
    runs-on: ubuntu-latest
    steps: [{run: echo tag}]
  main-only:
    if: github.ref_name == 'main'
    runs-on: ubuntu-latest
    steps: [{run: echo main}]
  cleanup:
    needs: main-only
    if: ${{ always() }}
    runs-on: ubuntu-latest
    steps: [{run: echo cleanup}]
  on-fail:
    needs: main-only
    if: needs.main-only.result == 'failure'
    runs-on: ubuntu-latest
    steps: [{run: echo x}]
""",
    )
    pipeline = load(repo, path)
    assert pipeline.job_names == ("main-only", "cleanup", "on-fail")
    assert pipeline.excluded[0].name == "tags-only"
    assert "is false" in pipeline.excluded[0].reason
    main = pipeline.job("main-only")
    assert main.condition is not None
    assert main.condition.check is None
    assert pipeline.job("cleanup").when is When.ALWAYS
    on_fail = pipeline.job("on-fail")
    assert on_fail.when is When.ON_SUCCESS
    assert on_fail.condition is not None
    assert on_fail.condition.check is not None


def test_branch_filter_stops_the_workflow(repo: Path) -> None:
    path = write_workflow(
        repo,
        """\
on:
  push:
    branches: [release/**, '!release/old']
jobs:
  a: {runs-on: ubuntu-latest, steps: [{run: 'true'}]}
""",
    )
    pipeline = load(repo, path)
    assert pipeline.runs is False
    assert "release/**" in pipeline.workflow_reason
    assert load(repo, path, ref="release/1.2").runs is True
    assert load(repo, path, ref="release/old").runs is False


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("jobs:\n  a:\n    runs-on: linux\n    stepz: []\n", 4, "unknown job keyword 'stepz'"),
        (
            "jobs:\n  a:\n    runs-on: linux\n    needs: b\n    steps: [{run: x}]\n",
            4,
            "needs unknown job 'b'",
        ),
        (
            "jobs:\n  a:\n    runs-on: linux\n    steps:\n      - run: x\n        if: 1 ==\n",
            6,
            "expression syntax error: unexpected end of expression",
        ),
        (
            "jobs:\n  a:\n    runs-on: linux\n    steps:\n      - run: echo ${{ foo.bar }}\n",
            5,
            "unrecognized named-value: 'foo'",
        ),
        (
            "jobs:\n  a:\n    runs-on: linux\n    steps:\n      - {run: x, uses: y}\n",
            5,
            "exactly one of run: and uses:",
        ),
        (
            "jobs:\n  a:\n    runs-on: linux\n    steps:\n      - run: x\n        shell: cmd\n",
            6,
            "only exists on Windows",
        ),
        (
            "jobs:\n  a:\n    runs-on: linux\n    strategy:\n      matrix:\n        os: []\n"
            "    steps: [{run: x}]\n",
            5,
            "does not contain any values",
        ),
        (
            "jobs:\n  a:\n    runs-on: linux\n    steps:\n      - run: x\n        timeout: 3\n",
            6,
            "unknown step keyword 'timeout'",
        ),
        ("on: push\njobs:\n  a: [1\n", 4, "YAML syntax error"),
        ("jobs:\n  a:\n    runs-on: linux\n    steps:\n      - uses: ./nope\n", 5, "no action.yml"),
    ],
)
def test_bad_input_names_file_line_and_job(repo: Path, text: str, line: int, message: str) -> None:
    path = write_workflow(repo, text)
    with pytest.raises(PipelineError) as info:
        load(repo, path)
    assert message in str(info.value)
    assert str(info.value).startswith(f".github/workflows/ci.yml:{line}: ")
    if "YAML" not in message:
        assert "job 'a'" in str(info.value)


def test_other_actions_warn_or_fail_with_strict(repo: Path) -> None:
    path = write_workflow(
        repo,
        """\
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: docker/build-push-action@v6
      - run: echo hi
""",
    )
    pipeline = load(repo, path)
    steps = pipeline.job("a").steps
    assert [s.params.get("uses") for s in steps] == ["actions/checkout@v4", None]
    assert len(pipeline.warnings) == 1
    message, where = pipeline.warnings[0]
    assert "docker/build-push-action@v6" in message
    assert where is not None
    assert where.line == 6
    with pytest.raises(PipelineError, match=r"ci\.yml:6: job 'a': action 'docker/build-push"):
        load(repo, path, strict=True)
