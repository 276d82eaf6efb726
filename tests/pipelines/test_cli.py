"""``opsforge pipeline ...`` as a user runs it: a real process, exit codes, output, history."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .conftest import ProjectFactory
from .test_runtime import _gone

OPSFORGE = [sys.executable, "-m", "opsforge"]


def cli(root: Path, *args: str, state: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPSFORGE_STATE_DIR": str(state), "COLUMNS": "200"}
    return subprocess.run(
        [*OPSFORGE, *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


CI = """
stages: [build, test]
build:
  stage: build
  script: [echo building, echo "token $TOKEN"]
test:
  stage: test
  script: [echo testing, exit 3]
lint:
  stage: test
  script: [exit 1]
  allow_failure: true
"""


def test_run_prefixes_output_recaps_and_exits_with_worst_failure(
    project: ProjectFactory, tmp_path: Path
) -> None:
    root = project(CI)
    junit = tmp_path / "junit.xml"
    proc = cli(
        root, "pipeline", "run", "--secret", "TOKEN=hunter2-long", "--junit", str(junit),
        state=tmp_path / "state",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "[build] building" in proc.stdout
    assert "[build] token ***" in proc.stdout
    assert "hunter2-long" not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "failed (allowed)" in proc.stderr
    assert "pipeline failed" in proc.stderr
    assert junit.is_file()
    history = cli(root, "runs", "list", "--json", state=tmp_path / "state")
    rows = [json.loads(line) for line in history.stdout.splitlines()]
    assert rows[0]["exit_code"] == 1
    assert "hunter2-long" not in history.stdout
    events = (tmp_path / "state" / "runs").glob("*.jsonl")
    for path in events:
        assert "hunter2-long" not in path.read_text()


def test_json_lines_output(project: ProjectFactory, tmp_path: Path) -> None:
    root = project(CI)
    proc = cli(root, "pipeline", "run", "build", "--output", "json", state=tmp_path / "s")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = [line["kind"] for line in lines]
    assert kinds[0] == "run_started"
    assert "step_output" in kinds
    assert lines[-1]["kind"] == "pipeline_finished"
    jobs = {j["name"]: j["status"] for j in lines[-1]["jobs"]}
    assert jobs == {"build": "success", "test": "not_run", "lint": "not_run"}


def test_bad_file_is_exit_2_with_file_and_line(project: ProjectFactory, tmp_path: Path) -> None:
    root = project("a:\n  script: [echo\n")
    proc = cli(root, "pipeline", "run", state=tmp_path / "s")
    assert proc.returncode == 2
    assert ".gitlab-ci.yml:" in proc.stderr
    assert "YAML syntax error" in proc.stderr
    assert "Traceback" not in proc.stderr
    cycle = project("a: {script: x, needs: [b]}\nb: {script: x, needs: [a]}\n")
    proc = cli(cycle, "pipeline", "list", state=tmp_path / "s")
    assert proc.returncode == 2
    assert "needs form a cycle" in proc.stderr


def test_bad_options_are_exit_2_without_a_traceback(
    project: ProjectFactory, tmp_path: Path
) -> None:
    root = project(CI)
    for args in (
        ["--services-timeout", "-1"],
        ["--services-timeout", "soon"],
        ["--format", "no-such-format"],
        ["--var", "NOEQUALS"],
    ):
        proc = cli(root, "pipeline", "run", *args, state=tmp_path / "s")
        assert proc.returncode == 2, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    proc = cli(root, "pipeline", "run", "--format", "no-such-format", state=tmp_path / "s")
    assert "unknown pipeline format 'no-such-format'" in proc.stderr
    assert "gitlab" in proc.stderr  # the available ones are listed


def test_format_chooses_among_several_pipeline_files(
    project: ProjectFactory, tmp_path: Path
) -> None:
    workflow = (
        "on: push\njobs:\n  gh-only:\n    runs-on: ubuntu-latest\n    steps: [{run: echo hi}]\n"
    )
    root = project(CI, files={".github/workflows/ci.yml": workflow})
    detected = cli(root, "pipeline", "list", state=tmp_path / "s")
    assert "build" in detected.stdout  # .gitlab-ci.yml comes first in detection order
    chosen = cli(root, "pipeline", "list", "--format", "github", state=tmp_path / "s")
    assert chosen.returncode == 0, chosen.stderr
    assert "gh-only" in chosen.stdout
    assert "build" not in chosen.stdout


def test_list_graph_explain(project: ProjectFactory, tmp_path: Path) -> None:
    root = project(CI + "deploy: {stage: test, script: [x], rules: [{if: $NOPE}]}\n")
    listed = cli(root, "pipeline", "list", "--json", state=tmp_path / "s")
    data = json.loads(listed.stdout)
    assert [j["name"] for j in data["jobs"]] == ["build", "test", "lint"]
    assert data["excluded"] == [{"name": "deploy", "reason": "no rule matched (1 rules)"}]
    graph = cli(root, "pipeline", "graph", ".gitlab-ci.yml", state=tmp_path / "s")
    assert "level 1" in graph.stdout
    assert "test  ← build" in graph.stdout
    explained = cli(root, "pipeline", "explain", "deploy", state=tmp_path / "s")
    assert "no rule matched" in explained.stdout
    unknown = cli(root, "pipeline", "explain", "nope", state=tmp_path / "s")
    assert unknown.returncode == 2


def test_ctrl_c_kills_running_jobs(project: ProjectFactory, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    root = project(f"slow:\n  script: ['sleep 60 & echo $! > {pidfile}; wait']\n")
    env = {**os.environ, "OPSFORGE_STATE_DIR": str(tmp_path / "s")}
    proc = subprocess.Popen(
        [*OPSFORGE, "pipeline", "run"], cwd=root, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180  # a bound on a busy machine, not a timing check
        while not (pidfile.exists() and pidfile.read_text().strip()):
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "canceled" in err
    assert _gone(int(pidfile.read_text()))


def test_a_running_jobs_log_file_is_written_as_lines_arrive(
    project: ProjectFactory, tmp_path: Path
) -> None:
    """`tail -f` on a job's log shows its output while the job still runs."""
    gate = tmp_path / "gate"
    root = project(
        f"slow:\n  script: ['echo first-line', 'while [ ! -e {gate} ]; do sleep 0.05; done']\n"
    )
    env = {**os.environ, "OPSFORGE_STATE_DIR": str(tmp_path / "s")}
    proc = subprocess.Popen(
        [*OPSFORGE, "pipeline", "run", "--in-place"], cwd=root, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180  # a bound on a busy machine, not a timing check
        while True:
            logs = list((root / ".opsforge" / "runs").glob("*/logs/slow.log"))
            if logs and "first-line" in logs[0].read_text():
                break
            assert proc.poll() is None, "the job ended before its gate opened"
            assert time.monotonic() < deadline, "the line never reached the log file"
            time.sleep(0.05)
    finally:
        gate.write_text("")
        assert proc.wait(timeout=180) == 0
