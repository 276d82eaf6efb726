"""Steps after a failure: if: failure()/always(), continue-on-error, step timeouts."""

from __future__ import annotations

import time
from pathlib import Path

from opsforge.pipelines.records import JobStatus

from .conftest import load, log_of, run, write_workflow


def test_step_conditions_continue_on_error_and_failure_steps(repo: Path) -> None:
    path = write_workflow(
        repo,
        """\
on: push
jobs:
  steps:
    runs-on: ubuntu-latest
    steps:
      - run: echo one
      - id: flaky
        continue-on-error: true
        run: exit 3
      - run: echo "flaky ${{ steps.flaky.outcome }} ${{ steps.flaky.conclusion }}"
      - run: exit 1
      - run: echo never-printed
      - if: failure()
        run: echo "on failure ran"
      - if: always()
        run: echo "always ran"
      - if: success()
        run: echo never-printed-either
""",
    )
    result = run(repo, load(repo, path))
    record = result.records["steps"]
    log = log_of(record)
    assert record.status is JobStatus.FAILED
    assert result.exit_code == 1
    assert "flaky failure success" in log
    assert "on failure ran" in log
    assert "always ran" in log
    assert "never-printed" not in log


def test_step_timeout_kills_the_process_group(repo: Path, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    path = write_workflow(
        repo,
        f"""\
on: push
jobs:
  slow:
    runs-on: ubuntu-latest
    steps:
      - timeout-minutes: 0.02
        run: |
          sleep 60 &
          echo $! > {pidfile}
          wait
      - if: always()
        run: echo after-timeout
""",
    )
    started = time.monotonic()
    result = run(repo, load(repo, path))
    assert time.monotonic() - started < 20
    record = result.records["slow"]
    assert record.status.failed
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists(), "the sleep outlived its step's timeout"
    assert "after-timeout" in log_of(record)


def test_a_skipped_step_never_renders_its_expressions(repo: Path) -> None:
    path = write_workflow(
        repo,
        """\
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - id: maybe
        if: false
        run: echo "json={}" >> "$GITHUB_OUTPUT"
      - if: steps.maybe.outcome == 'success'
        run: echo "${{ fromJSON(steps.maybe.outputs.json) }}"
      - run: echo reached
""",
    )
    result = run(repo, load(repo, path))
    assert result.records["j"].status is JobStatus.SUCCESS, log_of(result.records["j"])
    assert "reached" in log_of(result.records["j"])
