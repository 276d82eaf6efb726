"""Workflows really run: ordering, matrix cells, env files, outputs, conditions, timeouts."""

from __future__ import annotations

import os
from pathlib import Path

from opsforge.pipelines.records import JobStatus

from .conftest import load, log_of, run, secrets, write_workflow


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_needs_order_outputs_and_matrix_cells(repo: Path, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    path = write_workflow(
        repo,
        f"""\
on: push
env:
  TRACE: {trace}
jobs:
  build:
    runs-on: ubuntu-latest
    outputs:
      version: ${{{{ steps.v.outputs.version }}}}
    steps:
      - run: echo "start build $(date +%s%N)" >> "$TRACE"; sleep 0.3
      - id: v
        run: echo "version=1.2.$GITHUB_RUN_NUMBER" >> "$GITHUB_OUTPUT"
      - run: echo "end build $(date +%s%N)" >> "$TRACE"
  test:
    needs: build
    runs-on: ${{{{ matrix.os }}}}
    strategy:
      matrix:
        os: [ubuntu-latest, macos-latest]
        py: ['3.11', '3.12']
    steps:
      - name: test on ${{{{ matrix.py }}}}
        run: >-
          echo "start test $(date +%s%N) ${{{{ matrix.os }}}}/${{{{ matrix.py }}}}
          v=${{{{ needs.build.outputs.version }}}}" >> "$TRACE"
""",
    )
    pipeline = load(repo, path)
    result = run(repo, pipeline)
    assert result.exit_code == 0
    assert [r.status for r in result.records.values()] == [JobStatus.SUCCESS] * 3
    assert list(result.records) == [
        "build",
        "test (ubuntu-latest, 3.11)",
        "test (ubuntu-latest, 3.12)",
    ]
    events = [line.split() for line in _lines(trace)]
    build_end = next(int(e[2]) for e in events if e[:2] == ["end", "build"])
    tests = [e for e in events if e[:2] == ["start", "test"]]
    assert sorted(e[3] for e in tests) == ["ubuntu-latest/3.11", "ubuntu-latest/3.12"]
    assert all(int(e[2]) > build_end for e in tests)
    assert all(e[4] == "v=1.2.1" for e in tests)
    assert result.records["build"].outputs == {"version": "1.2.1"}
    assert "$ test on 3.12" in log_of(result.records["test (ubuntu-latest, 3.12)"])


def test_env_path_output_and_summary_files_between_steps(repo: Path) -> None:
    (repo / "tools").mkdir()
    path = write_workflow(
        repo,
        """\
on: push
jobs:
  files:
    runs-on: ubuntu-latest
    env:
      LEVEL: job
    steps:
      - id: first
        shell: bash
        run: |
          echo "GREETING=hello from step 1" >> "$GITHUB_ENV"
          { echo 'MULTI<<EOF'; echo 'line one'; echo 'line two'; echo EOF; } >> "$GITHUB_ENV"
          bin="$RUNNER_TEMP/tools-$$" && mkdir -p "$bin"
          printf '#!/bin/sh\\necho tool ran\\n' > "$bin/mytool"
          chmod +x "$bin/mytool" && echo "$bin" >> "$GITHUB_PATH"
          echo "answer=42" >> "$GITHUB_OUTPUT"
          echo "## summary" >> "$GITHUB_STEP_SUMMARY"
      - env:
          LEVEL: step
          LITERAL: $HOME/x
        run: |
          echo "literal: $LITERAL"
          echo "got: $GREETING / $LEVEL / ${{ env.LEVEL }} / ${{ steps.first.outputs.answer }}"
          echo "multi: $MULTI" | tr '\\n' '|'; echo
          mytool
          test "$GITHUB_WORKSPACE" = "$PWD"
""",
    )
    result = run(repo, load(repo, path))
    record = result.records["files"]
    log = log_of(record)
    assert record.status is JobStatus.SUCCESS, log
    assert "got: hello from step 1 / step / step / 42" in log
    assert "multi: line one|line two|" in log
    assert "tool ran" in log
    assert "literal: $HOME/x" in log


def test_job_if_on_needs_results_and_always(repo: Path) -> None:
    path = write_workflow(
        repo,
        """\
on: push
jobs:
  broken:
    runs-on: ubuntu-latest
    steps: [{run: exit 7}]
  skipped-after:
    needs: broken
    runs-on: ubuntu-latest
    steps: [{run: echo should-not-run}]
  notify:
    needs: broken
    if: failure() && needs.broken.result == 'failure'
    runs-on: ubuntu-latest
    steps:
      - run: echo "notified ${{ needs.broken.result }}"
  cleanup:
    needs: [broken, notify]
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: echo "cleanup saw ${{ join(needs.*.result, ',') }}"
""",
    )
    result = run(repo, load(repo, path))
    status = {name: r.status for name, r in result.records.items()}
    assert status == {
        "broken": JobStatus.FAILED,
        "skipped-after": JobStatus.SKIPPED,
        "notify": JobStatus.SUCCESS,
        "cleanup": JobStatus.SUCCESS,
    }
    assert "notified failure" in log_of(result.records["notify"])
    assert "cleanup saw failure,success" in log_of(result.records["cleanup"])


def test_secrets_are_masked_and_composite_action_inputs_outputs(repo: Path) -> None:
    action = repo / ".github" / "actions" / "greet"
    action.mkdir(parents=True)
    (action / "action.yml").write_text("""\
name: greet
inputs:
  who: {required: true}
  punctuation: {default: '!'}
outputs:
  message:
    value: ${{ steps.say.outputs.text }}
runs:
  using: composite
  steps:
    - id: say
      shell: bash
      run: echo "text=hello ${{ inputs.who }}${{ inputs.punctuation }}" >> "$GITHUB_OUTPUT"
""")
    path = write_workflow(
        repo,
        """\
on: push
jobs:
  use:
    runs-on: ubuntu-latest
    steps:
      - id: greet
        uses: ./.github/actions/greet
        with:
          who: ${{ github.actor }}-x
      - env:
          TOKEN: ${{ secrets.API_TOKEN }}
        run: |
          echo "message: ${{ steps.greet.outputs.message }}"
          echo "token is $TOKEN"
""",
    )
    pipeline = load(repo, path, secrets=secrets(API_TOKEN="s3cr3t-value"))
    result = run(repo, pipeline, secrets={"API_TOKEN": "s3cr3t-value"})
    log = log_of(result.records["use"])
    assert result.records["use"].status is JobStatus.SUCCESS, log
    assert f"message: hello {os.environ.get('USER') or __import__('getpass').getuser()}-x!" in log
    assert "token is ***" in log
    for file in result.run_dir.rglob("*"):
        if file.is_file():
            assert b"s3cr3t-value" not in file.read_bytes(), file


def test_job_env_may_read_needs_outputs(repo: Path) -> None:
    path = write_workflow(
        repo,
        """\
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    outputs: {tag: "${{ steps.t.outputs.tag }}"}
    steps:
      - id: t
        run: echo "tag=v9" >> "$GITHUB_OUTPUT"
  b:
    needs: a
    runs-on: ubuntu-latest
    env:
      TAG: ${{ needs.a.outputs.tag }}
      FIXED: plain
    steps:
      - run: echo "tag=$TAG fixed=$FIXED context=${{ env.TAG }}"
""",
    )
    result = run(repo, load(repo, path))
    assert "tag=v9 fixed=plain context=v9" in log_of(result.records["b"])


def test_continue_on_error_of_a_composite_action(repo: Path) -> None:
    """The composite stops at its first failing step; with continue-on-error the job goes
    on, without it the job fails."""
    action = repo / ".github" / "actions" / "flaky"
    action.mkdir(parents=True)
    (action / "action.yml").write_text("""\
name: flaky
runs:
  using: composite
  steps:
    - shell: bash
      run: echo inner-one
    - shell: bash
      run: exit 3
    - shell: bash
      run: echo inner-never
""")
    path = write_workflow(
        repo,
        """\
on: push
jobs:
  tolerant:
    runs-on: ubuntu-latest
    steps:
      - id: flaky
        uses: ./.github/actions/flaky
        continue-on-error: true
      - run: echo "after outcome=${{ steps.flaky.outcome }}"
  strict:
    runs-on: ubuntu-latest
    steps:
      - uses: ./.github/actions/flaky
      - run: echo strict-after
""",
    )
    result = run(repo, load(repo, path))
    tolerant = log_of(result.records["tolerant"])
    assert result.records["tolerant"].status is JobStatus.SUCCESS, tolerant
    assert "inner-one" in tolerant
    assert "inner-never" not in tolerant
    assert "after outcome=" in tolerant
    strict = log_of(result.records["strict"])
    assert result.records["strict"].status is JobStatus.FAILED
    assert "inner-never" not in strict
    assert "strict-after" not in strict
