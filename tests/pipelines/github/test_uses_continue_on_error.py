"""``continue-on-error`` on a ``uses:`` step with a local equivalent, really run."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.pipelines.records import JobStatus

from .conftest import load, log_of, run, write_workflow

WORKFLOW = """\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - id: py
        uses: actions/setup-python@v5
        {coe}
        with:
          python-version: "2.1"
      - run: echo "after ${{{{ steps.py.outcome }}}} ${{{{ steps.py.conclusion }}}}"
"""


@pytest.mark.parametrize(
    ("coe", "status", "after"),
    [
        ("continue-on-error: true", JobStatus.SUCCESS, "after failure success"),
        ("continue-on-error: ${{ github.event_name == 'push' }}", JobStatus.SUCCESS, "after"),
        ("continue-on-error: false", JobStatus.FAILED, None),
        ("", JobStatus.FAILED, None),
    ],
)
def test_continue_on_error_of_a_uses_step(
    repo: Path, coe: str, status: JobStatus, after: str | None
) -> None:
    path = write_workflow(repo, WORKFLOW.format(coe=coe or "name: setup"))
    result = run(repo, load(repo, path))
    record = result.records["build"]
    assert record.status is status, record.message
    log = log_of(record)
    assert "no Python 2.1 on this host" in log
    if after is None:
        assert "after" not in log.replace("$ echo", "")
    else:
        assert after in log
