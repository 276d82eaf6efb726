"""A ``${{ }}`` expression that fails at run time fails its step (or job), not skips it.

Each case is a real run of a small workflow: the failing step's job is *failed*, the
error names file:line and the expression in the job's log and in the job's message,
``continue-on-error`` (step and job) applies as on GitHub, and ``if: failure()`` steps
still run after it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.pipelines.records import JobStatus

from .conftest import load, log_of, run, secrets, write_workflow

BAD = "fromJSON('{bad')"

# (case, step lines under `steps:`, the line of the bad expression in the file)
STEP_CASES = [
    ("run", [f"- run: echo ${{{{ {BAD} }}}}"], 6),
    ("step if", [f"- if: {BAD}", "  run: echo x"], 6),
    ("step if in ${{ }}", [f"- if: ${{{{ {BAD} }}}}", "  run: echo x"], 6),
    ("step env", ["- env:", f"    X: ${{{{ {BAD} }}}}", "  run: echo $X"], 7),
    ("step name", [f"- name: n ${{{{ {BAD} }}}}", "  run: echo x"], 6),
    ("working-directory", [f"- working-directory: ${{{{ {BAD} }}}}", "  run: echo x"], 6),
]


def _workflow(step_lines: list[str], after: str = "") -> str:
    body = "\n".join("      " + line for line in step_lines)
    return (
        "on: push\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        f"{body}\n"
        "      - run: echo never-printed\n"
        "      - if: failure()\n"
        "        run: echo failure-step-ran\n"
        f"{after}"
    )


@pytest.mark.parametrize(("case", "lines", "line"), STEP_CASES, ids=[c[0] for c in STEP_CASES])
def test_a_failing_step_expression_fails_the_job(
    repo: Path, case: str, lines: list[str], line: int
) -> None:
    path = write_workflow(repo, _workflow(lines))
    result = run(repo, load(repo, path))
    record = result.records["build"]
    assert record.status is JobStatus.FAILED, (case, record.status, record.message)
    assert result.exit_code == 1
    where = f".github/workflows/ci.yml:{line}"
    assert where in record.message
    assert "fromJSON(): invalid JSON '{bad'" in record.message
    assert "exited with" not in record.message  # the error is the reason, not an exit code
    log = log_of(record)
    assert f"error: {where}: job 'build': fromJSON(): invalid JSON '{{bad'" in log
    assert BAD in log  # the expression itself is named
    assert "never-printed" not in log
    assert "failure-step-ran" in log


def test_job_env_that_reads_needs_fails_the_step(repo: Path) -> None:
    path = write_workflow(
        repo,
        """\
on: push
jobs:
  first:
    runs-on: ubuntu-latest
    outputs:
      v: ${{ steps.o.outputs.v }}
    steps:
      - id: o
        run: echo "v=not json" >> "$GITHUB_OUTPUT"
  second:
    runs-on: ubuntu-latest
    needs: first
    env:
      PARSED: ${{ fromJSON(needs.first.outputs.v) }}
    steps:
      - run: echo "parsed=$PARSED"
""",
    )
    result = run(repo, load(repo, path))
    record = result.records["second"]
    assert result.records["first"].status is JobStatus.SUCCESS
    assert record.status is JobStatus.FAILED
    assert ".github/workflows/ci.yml:14" in record.message
    assert "invalid JSON 'not json'" in log_of(record)
    assert "parsed=" not in log_of(record)


def test_continue_on_error_covers_a_failing_expression(repo: Path) -> None:
    path = write_workflow(
        repo,
        f"""\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - id: bad
        continue-on-error: true
        run: echo ${{{{ {BAD} }}}}
      - run: echo "next ran ${{{{ steps.bad.outcome }}}} ${{{{ steps.bad.conclusion }}}}"
""",
    )
    result = run(repo, load(repo, path))
    record = result.records["build"]
    assert record.status is JobStatus.SUCCESS
    assert result.exit_code == 0
    log = log_of(record)
    assert "error: .github/workflows/ci.yml:8" in log
    assert "next ran failure success" in log


def _two_jobs(first: str = "", second: str = "") -> str:
    """``second`` needs ``first``; extra keys of each job (indented) before its steps."""
    return (
        "on: push\n"
        "jobs:\n"
        "  first:\n"
        "    runs-on: ubuntu-latest\n"
        f"{first}"
        "    steps:\n"
        "      - run: echo first-ran\n"
        "  second:\n"
        "    runs-on: ubuntu-latest\n"
        "    needs: first\n"
        f"{second}"
        "    steps:\n"
        "      - run: echo never-printed\n"
    )


@pytest.mark.parametrize(
    "condition",
    [BAD, f"always() && {BAD}", f"${{{{ needs.first.result == 'success' && {BAD} }}}}"],
    ids=["plain", "status function", "reads needs"],
)
def test_a_failing_job_if_fails_the_job(repo: Path, condition: str) -> None:
    path = write_workflow(repo, _two_jobs(second=f"    if: {condition}\n"))
    result = run(repo, load(repo, path))
    record = result.records["second"]
    assert record.status is JobStatus.FAILED, record.message
    assert result.exit_code == 1
    assert ".github/workflows/ci.yml:10" in record.message
    assert "invalid JSON '{bad'" in record.message
    log = log_of(record)
    assert "error: .github/workflows/ci.yml:10" in log
    assert "never-printed" not in log


def test_job_continue_on_error_allows_a_failing_job_if(repo: Path) -> None:
    extra = f"    continue-on-error: true\n    if: always() && {BAD}\n"
    result = run(repo, load(repo, write_workflow(repo, _two_jobs(second=extra))))
    record = result.records["second"]
    assert record.status is JobStatus.FAILED
    assert record.allowed_failure
    assert result.exit_code == 0


def test_a_failing_job_output_fails_the_job(repo: Path) -> None:
    extra = f"    outputs:\n      v: ${{{{ {BAD} }}}}\n"
    result = run(repo, load(repo, write_workflow(repo, _two_jobs(first=extra))))
    record = result.records["first"]
    assert record.status is JobStatus.FAILED
    assert ".github/workflows/ci.yml:6" in record.message
    assert "first-ran" in log_of(record)
    assert "error: .github/workflows/ci.yml:6" in log_of(record)
    assert result.records["second"].status is JobStatus.SKIPPED
    assert result.exit_code == 1


SECRET = "hunter2-not-json"
LEAKY = "fromJSON(secrets.TOKEN)"


@pytest.mark.parametrize(
    ("workflow", "job"),
    [
        (_workflow([f"- run: echo ${{{{ {LEAKY} }}}}"]), "build"),
        (_workflow([f"- if: {LEAKY}", "  run: echo x"]), "build"),
        (_workflow(["- env:", f"    X: ${{{{ {LEAKY} }}}}", "  run: echo $X"]), "build"),
        (_two_jobs(first=f"    outputs:\n      v: ${{{{ {LEAKY} }}}}\n"), "first"),
    ],
    ids=["run", "step if", "step env", "job outputs"],
)
def test_a_secret_quoted_by_a_failing_expression_is_masked(
    repo: Path, workflow: str, job: str
) -> None:
    path = write_workflow(repo, workflow)
    pipeline = load(repo, path, secrets=secrets(TOKEN=SECRET))
    result = run(repo, pipeline, secrets={"TOKEN": SECRET})
    record = result.records[job]
    assert record.status is JobStatus.FAILED
    assert "invalid JSON '***'" in record.message
    assert SECRET not in record.message
    assert SECRET not in log_of(record)
    assert "invalid JSON '***'" in log_of(record)
