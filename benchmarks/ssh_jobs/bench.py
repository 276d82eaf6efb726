#!/usr/bin/env python3
"""ssh_jobs driver: one CI job on an ssh host — files in, steps, artifacts out — three ways.

The job: the project's files must be on the host, ``STEPS`` shell steps run there
(one reads every project file), it writes ``dist/`` (``ARTIFACTS`` files) and those
come back to this machine; the remote directory is removed at the end.

* ``opsforge``: ``opsforge pipeline run -i inventory`` of a one-job native pipeline
  (``host: lab1``, ``artifacts: {paths: [dist/]}``): the whole CLI, from process start.
* ``rsync+ssh``: what a shell script does: ``ssh mktemp -d``, ``rsync -a`` the project
  there, one ``ssh`` per step, ``rsync -a`` dist/ back, ``ssh rm -rf`` — each a new
  OpenSSH connection.
* ``rsync+ssh (mux)``: the same over one multiplexed OpenSSH connection
  (ControlMaster, opened before the timing starts: the practical floor).

Hosts: opsforge's own lab (``opsforge.testing.SSHLab``, real sshd on 127.0.0.1),
started and stopped by this script (by PID). Writes only under $ROOT.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from opsforge.testing import SSHLab

ROOT = Path(os.environ.get("ROOT", "/tmp/ssh_jobs")).resolve()
if not str(ROOT).startswith("/tmp/"):
    sys.exit(f"ROOT must be under /tmp, not {ROOT}")
RUNS = int(os.environ.get("RUNS", "7"))
STEPS = int(os.environ.get("STEPS", "5"))
ARTIFACTS = int(os.environ.get("ARTIFACTS", "50"))
#: project sizes: name -> (files, bytes per file)
SIZES = {"small": (100, 2_000), "large": (2_000, 10_000)}
OPSFORGE = os.environ.get("OPSFORGE_BIN", str(Path(sys.executable).parent / "opsforge"))


def run(args: list[str], **kw: object) -> None:
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)  # type: ignore[call-overload]


def make_project(where: Path, files: int, size: int) -> Path:
    if where.exists():
        shutil.rmtree(where)
    (where / "src").mkdir(parents=True)
    for i in range(files):
        sub = where / "src" / f"d{i % 20}"
        sub.mkdir(exist_ok=True)
        (sub / f"f{i}.txt").write_bytes(os.urandom(size // 2).hex().encode())
    steps = [f"echo step {n}" for n in range(STEPS - 1)]
    steps.append(
        f"mkdir -p dist && cat src/*/* | wc -c > dist/size && "
        f"for i in $(seq {ARTIFACTS - 1}); do cp src/d0/f0.txt dist/a$i; done"
    )
    (where / "steps.txt").write_text("\n".join(steps) + "\n")
    lines = "\n".join(f"    - {s!r}" for s in steps)
    (where / "opsforge-pipeline.yml").write_text(
        f"job:\n  host: lab1\n  script:\n{lines}\n  artifacts: {{paths: [dist/]}}\n"
    )
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.invalid",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.invalid"}  # fmt: skip
    run(["git", "init", "-q"], cwd=where)
    run(["git", "add", "-A"], cwd=where, env=env)
    run(["git", "commit", "-q", "-m", "bench"], cwd=where, env=env)
    return where


def opsforge_way(project: Path, inventory: Path) -> Callable[[], None]:
    env = {**os.environ, "OPSFORGE_STATE_DIR": str(ROOT / "state")}

    def once() -> None:
        run([OPSFORGE, "pipeline", "run", "-i", str(inventory)], cwd=project, env=env)
        runs = project / ".opsforge" / "runs"
        newest = sorted(runs.iterdir())[-1]
        got = (newest / "artifacts" / "job" / "dist").iterdir()
        assert len(list(got)) == ARTIFACTS, "artifacts did not come back"

    return once


def shell_way(project: Path, ssh: list[str], rsync_ssh: str) -> Callable[[], None]:
    steps = (project / "steps.txt").read_text().splitlines()
    out = ROOT / "out"

    def once() -> None:
        made = subprocess.run([*ssh, "lab1", "mktemp -d /tmp/bench.XXXXXX"], check=True,
                              capture_output=True, text=True).stdout.strip()  # fmt: skip
        run(["rsync", "-a", "--exclude", ".git", "--exclude", ".opsforge", "-e", rsync_ssh,
             f"{project}/", f"lab1:{made}/"])  # fmt: skip
        for step in steps:
            run([*ssh, "lab1", f"cd {made} && set -e && {step}"])
        if out.exists():
            shutil.rmtree(out)
        run(["rsync", "-a", "-e", rsync_ssh, f"lab1:{made}/dist/", f"{out}/"])
        run([*ssh, "lab1", f"rm -rf {made}"])
        assert len(list(out.iterdir())) == ARTIFACTS, "artifacts did not come back"

    return once


def medians(ways: dict[str, Callable[[], None]]) -> dict[str, float]:
    """Median wall time of each way, the ways interleaved run by run (a machine whose
    load changes during the benchmark changes every way alike)."""
    for once in ways.values():
        once()  # warm-up (and a correctness check)
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(RUNS):
        for name, once in ways.items():
            started = time.perf_counter()
            once()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    ROOT.mkdir(parents=True, exist_ok=True)
    with SSHLab(ROOT / "lab", 1) as info:
        config = str(info.ssh_config_path)
        mux = ROOT / "mux"
        plain = ["ssh", "-F", config]
        shared = [*plain, "-o", "ControlMaster=auto", "-o", f"ControlPath={mux}",
                  "-o", "ControlPersist=60"]  # fmt: skip
        master = subprocess.Popen([*shared, "-N", "-o", "ControlMaster=yes", "lab1"])
        try:
            deadline = time.monotonic() + 30
            while not mux.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            rows = []
            for name, (files, size) in SIZES.items():
                project = make_project(ROOT / f"project-{name}", files, size)
                megabytes = files * size / 1e6
                results = medians(
                    {
                        "opsforge": opsforge_way(project, info.inventory),
                        "rsync+ssh": shell_way(project, plain, " ".join(plain)),
                        "rsync+ssh (mux)": shell_way(project, shared, " ".join(shared)),
                    }
                )
                rows.append((name, files, megabytes, results))
        finally:
            subprocess.run([*shared, "-O", "exit", "lab1"], capture_output=True, check=False)
            master.terminate()
            master.wait(timeout=30)
    load = os.getloadavg()[0]
    print(f"one job: project in, {STEPS} steps, {ARTIFACTS} artifact files out; "
          f"median of {RUNS} interleaved runs (s); load average {load:.1f}")  # fmt: skip
    print("| project | files | MB | opsforge | rsync+ssh | rsync+ssh (mux) | ratio vs mux |")
    print("|---|---|---|---|---|---|---|")
    for name, files, megabytes, r in rows:
        ratio = r["rsync+ssh (mux)"] / r["opsforge"]
        print(f"| {name} | {files} | {megabytes:.1f} | {r['opsforge']:.3f} | "
              f"{r['rsync+ssh']:.3f} | {r['rsync+ssh (mux)']:.3f} | {ratio:.2f}x |")  # fmt: skip


if __name__ == "__main__":
    main()
