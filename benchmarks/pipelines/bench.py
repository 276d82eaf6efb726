"""opsforge vs gitlab-ci-local on the same pipelines: medians and ratios in one run.

Scenarios (each a fresh git repo with one .gitlab-ci.yml, shell executor, echo jobs):

* ``10 jobs (1→8→1)``: build → 8 test jobs → deploy (stages);
* ``50-job fan-out``: one setup job, then 50 jobs that need it;
* ``50 jobs isolated``: the fan-out with per-job isolation (opsforge's default
  workdirs vs ``gitlab-ci-local --shell-isolation``);
* ``1 job printing 200,000 lines``: the cost of output (logs, events, the live view).

The first two run opsforge with ``--in-place`` and gitlab-ci-local with its default
(jobs run in the project directory). Wall time of the whole command and its CPU time
(user + system of it and every process it waited for: a figure that a busy machine
distorts less), ``--runs`` times each (default 5, interleaved), after one warm-up run;
the table prints medians and gitlab-ci-local / opsforge.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OPSFORGE = [str(ROOT / ".venv" / "bin" / "opsforge")]
GCL = ["gitlab-ci-local"]


def ten_jobs() -> str:
    lines = ["stages: [build, test, deploy]", "build: {stage: build, script: [echo build]}"]
    lines += [f"test-{i}: {{stage: test, script: [echo test {i}]}}" for i in range(1, 9)]
    lines.append("deploy: {stage: deploy, script: [echo deploy]}")
    return "\n".join(lines) + "\n"


def fan_out() -> str:
    lines = ["stages: [setup, test]", "setup: {stage: setup, script: [echo setup]}"]
    lines += [
        f"job-{i:02d}: {{stage: test, needs: [setup], script: [echo job {i}]}}"
        for i in range(1, 51)
    ]
    return "\n".join(lines) + "\n"


def verbose() -> str:
    return "build: {stage: build, script: [seq 1 200000]}\n"


SCENARIOS = [
    ("10 jobs (1→8→1), in place", ten_jobs, ["--in-place"], []),
    ("50-job fan-out, in place", fan_out, ["--in-place"], []),
    ("50 jobs isolated", fan_out, [], ["--shell-isolation"]),
    ("1 job printing 200,000 lines, in place", verbose, ["--in-place"], []),
]


def make_repo(base: Path, name: str, ci: str) -> Path:
    repo = base / name
    repo.mkdir()
    (repo / ".gitlab-ci.yml").write_text(ci)
    (repo / "README.md").write_text("benchmark project\n")
    src = repo / "src"
    src.mkdir()
    for i in range(20):  # a few files so isolation has something to copy
        (src / f"module_{i}.py").write_text(f"VALUE = {i}\n" * 50)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@example.invalid",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@example.invalid",
    }
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        subprocess.run(["git", *args], cwd=repo, check=True, env=env)
    return repo


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and every process it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.exit(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n"
            f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        )
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="opsforge-pipebench-"))
    env = {**os.environ, "OPSFORGE_STATE_DIR": str(base / "state"), "NO_COLOR": "1"}
    # as installed by pip: byte-code cached (the warm-up run writes it)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    gcl_version = subprocess.run([*GCL, "--version"], capture_output=True, text=True).stdout.strip()
    rows = []
    try:
        for index, (title, make, of_args, gcl_args) in enumerate(SCENARIOS):
            repo = make_repo(base, f"s{index}", make())
            of_cmd = [*OPSFORGE, "pipeline", "run", *of_args]
            gcl_cmd = [*GCL, *gcl_args]
            timed(of_cmd, repo, env)
            timed(gcl_cmd, repo, env)
            of_runs: list[tuple[float, float]] = []
            gcl_runs: list[tuple[float, float]] = []
            for _ in range(args.runs):  # interleaved, so load spikes hit both
                of_runs.append(timed(of_cmd, repo, env))
                gcl_runs.append(timed(gcl_cmd, repo, env))
            row = (
                title,
                statistics.median(t for t, _ in of_runs),
                statistics.median(t for t, _ in gcl_runs),
                statistics.median(c for _, c in of_runs),
                statistics.median(c for _, c in gcl_runs),
            )
            rows.append(row)
            print(
                f"{title}: opsforge {row[1]:.3f}s ({row[3]:.2f} CPU-s), "
                f"gitlab-ci-local {row[2]:.3f}s ({row[4]:.2f} CPU-s)",
                file=sys.stderr,
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(
        f"\nmedian wall time of {args.runs} runs (after a warm-up), "
        f"gitlab-ci-local {gcl_version}, "
        f"{os.cpu_count()} CPUs\n"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}\n")
    print(
        "| scenario | opsforge wall | gitlab-ci-local wall | ratio "
        "| opsforge CPU | gitlab-ci-local CPU | ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for title, of_wall, gcl_wall, of_cpu, gcl_cpu in rows:
        print(
            f"| {title} | {of_wall:.3f} s | {gcl_wall:.3f} s | {gcl_wall / of_wall:.1f}x "
            f"| {of_cpu:.2f} s | {gcl_cpu:.2f} s | {gcl_cpu / of_cpu:.1f}x |"
        )


if __name__ == "__main__":
    main()
