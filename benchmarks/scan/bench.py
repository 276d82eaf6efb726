"""Driver of benchmarks/scan (run it through run.sh).

Per run, one after the other on the same tree: ``opsforge scan --only code --only
secrets --all-files`` (2 worker processes on this machine), ``bandit -r`` and
``detect-secrets scan --all-files``. Prints medians of wall and CPU time, the
ratio opsforge / (bandit + detect-secrets), and how the findings compare: the
Bandit results (same engine, so they should be identical) and the secrets
(precision and recall of both secret scanners on the test corpus, whose truth
is known; counts on the big tree, whose truth is not).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(os.environ["ROOT"])
TREE = Path(os.environ["SCAN_TREE"])
BENCH_VENV = Path(os.environ["BENCH_VENV"])
REPO = Path(__file__).resolve().parents[2]
OPSFORGE = [sys.executable, "-m", "opsforge"]
OUT = ROOT / "out"


def timed(
    command: list[str], stdout_file: Path | None = None, cwd: Path | None = None
) -> tuple[float, float]:
    """Wall and CPU (user+sys of the children) seconds of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(stdout_file, "w") if stdout_file else open(os.devnull, "w") as out:
        done = subprocess.run(
            command, stdout=out, stderr=subprocess.PIPE, text=True, cwd=cwd, check=False
        )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        tail = done.stderr.strip().splitlines()[-3:]
        raise SystemExit(f"{command[0]} exited {done.returncode}: {' | '.join(tail)}")
    return wall, cpu


Command = tuple[list[str], Path | None, Path | None]  # argv, stdout file, cwd


def commands(tree: Path, tag: str) -> dict[str, Command]:
    bin_ = BENCH_VENV / "bin"
    opsforge = [
        *OPSFORGE,
        "scan",
        str(tree),
        "--only",
        "code",
        "--only",
        "secrets",
        "--all-files",
        "--format",
        "json",
        "-o",
        str(OUT / f"opsforge-{tag}.json"),
    ]
    bandit = [
        str(bin_ / "bandit"),
        "-r",
        str(tree),
        "-q",
        "-f",
        "json",
        "-o",
        str(OUT / f"bandit-{tag}.json"),
    ]
    # detect-secrets lists files with git when its working directory is in a work tree:
    # run it inside the tree (not a git checkout) on "."
    detect = [str(bin_ / "detect-secrets"), "scan", "--all-files", "."]
    return {
        "opsforge": (opsforge, None, None),
        "bandit": (bandit, None, None),
        "detect-secrets": (detect, OUT / f"detect-secrets-{tag}.json", tree),
    }  # fmt: skip


def rel(path: str, tree: Path) -> str:
    return (
        os.path.relpath(os.path.join(tree, path), tree)
        if not os.path.isabs(path)
        else os.path.relpath(path, tree)
    )


def compare_bandit(tree: Path, tag: str) -> dict[str, int]:
    ours = json.loads((OUT / f"opsforge-{tag}.json").read_text())
    theirs = json.loads((OUT / f"bandit-{tag}.json").read_text())
    a = {
        (f["location"]["path"], f["location"]["line"], f["rule_id"])
        for f in ours["findings"]
        if f["tool"] == "bandit"
    }
    b = {(rel(r["filename"], tree), r["line_number"], r["test_id"]) for r in theirs["results"]}
    return {
        "opsforge": len(a),
        "bandit": len(b),
        "both": len(a & b),
        "only_opsforge": len(a - b),
        "only_bandit": len(b - a),
        "bandit_errors": len(theirs.get("errors", [])),
        "opsforge_problems": sum(1 for p in ours["problems"] if p["tool"] == "bandit"),
    }


def secrets_sets(tree: Path, tag: str) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
    ours = json.loads((OUT / f"opsforge-{tag}.json").read_text())
    theirs = json.loads((OUT / f"detect-secrets-{tag}.json").read_text())
    a = {
        (f["location"]["path"], f["location"]["line"])
        for f in ours["findings"]
        if f["tool"] == "secrets"
    }
    b = {
        (rel(name, tree), item["line_number"])
        for name, items in theirs["results"].items()
        for item in items
    }
    return a, b


def corpus_quality() -> dict[str, dict[str, float]]:
    sys.path.insert(0, str(REPO))
    from tests.security.scan import corpus

    root = ROOT / "corpus"
    shutil.rmtree(root, ignore_errors=True)
    corpus.write_cases(root, corpus.SECRETS + corpus.LOOK_ALIKES)
    truth = {(c.path, line) for c in corpus.SECRETS for _, line in c.expected}
    for name, (command, stdout, cwd) in commands(root, "corpus").items():
        if name != "bandit":
            timed(command, stdout, cwd=cwd)
    ours, theirs = secrets_sets(root, "corpus")
    result = {}
    for name, found in (("opsforge", ours), ("detect-secrets", theirs)):
        hits = found & truth
        result[name] = {
            "reported": len(found),
            "true_positives": len(hits),
            "precision": round(len(hits) / len(found), 3) if found else 0.0,
            "recall": round(len(hits) / len(truth), 3),
        }
    result["truth"] = {"secrets": len(truth), "look_alike_files": len(corpus.LOOK_ALIKES)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    py_files = sum(1 for _ in TREE.rglob("*.py"))
    all_files = sum(1 for p in TREE.rglob("*") if p.is_file())
    print(f"tree: {TREE} ({py_files} .py files, {all_files} files)", flush=True)
    times: dict[str, list[tuple[float, float]]] = {
        "opsforge": [],
        "bandit": [],
        "detect-secrets": [],
    }
    for run in range(args.runs):
        for name, (command, stdout, cwd) in commands(TREE, "tree").items():
            wall, cpu = timed(command, stdout, cwd=cwd)
            times[name].append((wall, cpu))
            print(f"run {run + 1} {name:15s} wall {wall:7.1f} s  cpu {cpu:7.1f} s", flush=True)
    med = {
        name: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
        for name, v in times.items()
    }
    peers_wall = med["bandit"][0] + med["detect-secrets"][0]
    peers_cpu = med["bandit"][1] + med["detect-secrets"][1]
    print(f"\nmedians of {args.runs} runs (load average now {os.getloadavg()[0]:.1f}):")
    print("| tool | wall s | cpu s |\n|---|---:|---:|")
    for name, (wall, cpu) in med.items():
        print(f"| {name} | {wall:.1f} | {cpu:.1f} |")
    print(f"| bandit + detect-secrets | {peers_wall:.1f} | {peers_cpu:.1f} |")
    wall_ratio = med["opsforge"][0] / peers_wall
    cpu_ratio = med["opsforge"][1] / peers_cpu
    print(
        f"\nratio opsforge / (bandit + detect-secrets): wall {wall_ratio:.2f}, cpu {cpu_ratio:.2f}"
    )
    print("\nbandit findings (path, line, test id):", json.dumps(compare_bandit(TREE, "tree")))
    ours, theirs = secrets_sets(TREE, "tree")
    counts = {"opsforge": len(ours), "detect-secrets": len(theirs), "both": len(ours & theirs)}
    print("secrets on the tree (path, line):", json.dumps(counts))
    print("secrets on the test corpus:", json.dumps(corpus_quality()))


if __name__ == "__main__":
    main()
