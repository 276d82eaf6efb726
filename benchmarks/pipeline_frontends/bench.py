"""The same 1 → 50 → 1 pipeline written for each front-end (GitLab as the reference,
GitHub Actions, CircleCI, declarative Jenkinsfile), timed: loading the file into the
model, and ``opsforge pipeline run`` wall time in place and with isolated workdirs.
Medians of N runs. No peer tool here: GitHub's `act` needs Docker images or a binary
download, CircleCI's local runner is gone, Jenkins has none."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from opsforge.pipelines.formats import LoadOptions, frontend

WIDTH = 50
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
OPSFORGE = str(Path(sys.executable).with_name("opsforge"))


def gitlab() -> str:
    jobs = ["stages: [a, b, c]", "first:\n  stage: a\n  script: [echo first]"]
    jobs += [f"mid{i}:\n  stage: b\n  script: [echo mid {i}]" for i in range(WIDTH)]
    jobs.append("last:\n  stage: c\n  script: [echo last]")
    return "\n".join(jobs) + "\n"


def github() -> str:
    out = [
        "on: push",
        "jobs:",
        "  first:",
        "    runs-on: ubuntu-latest",
        "    steps: [{run: echo first}]",
    ]
    for i in range(WIDTH):
        out += [
            f"  mid{i}:",
            "    needs: first",
            "    runs-on: ubuntu-latest",
            f"    steps: [{{run: echo mid {i}}}]",
        ]
    out += [
        "  last:",
        f"    needs: [{', '.join(f'mid{i}' for i in range(WIDTH))}]",
        "    runs-on: ubuntu-latest",
        "    steps: [{run: echo last}]",
    ]
    return "\n".join(out) + "\n"


def circleci() -> str:
    out = ["version: 2.1", "jobs:"]
    names = ["first", *(f"mid{i}" for i in range(WIDTH)), "last"]
    out += [
        f"  {n}: {{docker: [{{image: cimg/base:current}}], steps: [{{run: echo {n}}}]}}"
        for n in names
    ]
    out += ["workflows:", "  main:", "    jobs:", "      - first"]
    out += [f"      - mid{i}: {{requires: [first]}}" for i in range(WIDTH)]
    out.append(f"      - last: {{requires: [{', '.join(f'mid{i}' for i in range(WIDTH))}]}}")
    return "\n".join(out) + "\n"


def jenkins() -> str:
    mids = "\n".join(
        f"        stage('mid{i}') {{ steps {{ sh 'echo mid {i}' }} }}" for i in range(WIDTH)
    )
    return (
        "pipeline {\n  agent any\n  stages {\n"
        "    stage('first') { steps { sh 'echo first' } }\n"
        f"    stage('fan') {{\n      parallel {{\n{mids}\n      }}\n    }}\n"
        "    stage('last') { steps { sh 'echo last' } }\n  }\n}\n"
    )


CASES = {
    "gitlab": (".gitlab-ci.yml", gitlab),
    "github": (".github/workflows/ci.yml", github),
    "circleci": (".circleci/config.yml", circleci),
    "jenkins": ("Jenkinsfile", jenkins),
}


def project(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    env = {
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@example.invalid",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@example.invalid",
        "PATH": "/usr/bin:/bin",
    }
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "b"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env)
    return path


def median_run(root: Path, path: Path, *extra: str) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        done = subprocess.run(
            [OPSFORGE, "pipeline", "run", str(path), *extra],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{path}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return statistics.median(times)


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, (name, make) in CASES.items():
            root = Path(tmp) / fmt
            path = project(root, name, make())
            loads = []
            for _ in range(RUNS):
                start = time.perf_counter()
                pipeline = frontend(fmt).load(path, LoadOptions(root=root))
                loads.append(time.perf_counter() - start)
            assert len(pipeline.jobs) == WIDTH + 2, (fmt, len(pipeline.jobs))
            rows.append(
                (
                    fmt,
                    statistics.median(loads),
                    median_run(root, path, "--in-place"),
                    median_run(root, path),
                )
            )
    print(f"1 -> {WIDTH} -> 1 jobs, median of {RUNS} runs\n")
    print("| format | load into the model | run in place | run isolated |")
    print("|---|---|---|---|")
    for fmt, load, in_place, isolated in rows:
        print(f"| {fmt} | {load * 1000:.1f} ms | {in_place:.2f} s | {isolated:.2f} s |")


if __name__ == "__main__":
    main()
