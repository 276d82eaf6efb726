#!/usr/bin/env python3
"""exec_fanout driver: one ad-hoc command on N loopback sshd hosts, four ways.

Tools, side by side in one run: ``opsforge exec``, plain OpenSSH (one ``ssh``
per host, all started at once: the practical floor), ``ansible -m raw`` and
``pyinfra exec``. The hosts are opsforge's own lab (``opsforge.testing.SSHLab``),
started once with max(N_LIST) hosts; each N uses the first N of them.

Runs under the Python of the venv that has opsforge (it imports the lab);
Ansible and pyinfra come from a separate venv ($BENCH_VENV). Writes only under
$ROOT (default /tmp/exec_fanout). Every process it starts is recorded by PID in
$ROOT/pids.txt and stopped by PID (or by the process group it was started in),
never by name. See README.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from opsforge.testing import LabHost, LabInfo, SSHLab, lab_down

HERE = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("ROOT", "/tmp/exec_fanout")).resolve()
if not str(ROOT).startswith("/tmp/"):
    sys.exit(f"ROOT must be under /tmp, not {ROOT}")
BENCH_VENV = Path(os.environ.get("BENCH_VENV", f"{ROOT}/venv"))
OPSFORGE = os.environ.get("OPSFORGE_BIN", str(Path(sys.executable).parent / "opsforge"))
SSH = shutil.which("ssh") or "/usr/bin/ssh"

N_LIST = [int(x) for x in os.environ.get("N_LIST", "1 10 50 100").split()]
RUNS = int(os.environ.get("RUNS", "5"))
WARMUP = int(os.environ.get("WARMUP", "1"))
TOOLS = os.environ.get("TOOLS", "opsforge ssh ssh-c25519 ansible pyinfra").split()
FORKS = int(os.environ.get("FORKS", "100"))
RUN_TIMEOUT = float(os.environ.get("RUN_TIMEOUT", "600"))
STARTUP_RUNS = int(os.environ.get("STARTUP_RUNS", "10"))
# Before each run wait (up to IDLE_WAIT s) until the rest of the machine is quiet:
# busy below IDLE_BUSY (fraction of all cores) over a 0.2 s sample.
IDLE_WAIT = float(os.environ.get("IDLE_WAIT", "20"))
IDLE_BUSY = float(os.environ.get("IDLE_BUSY", "0.15"))
ALL_COMMANDS = {"true": "true", "os-release": "cat /etc/os-release"}
COMMANDS = os.environ.get("COMMANDS", "true os-release").split()
KNOWN_TOOLS = ("opsforge", "ssh", "ssh-c25519", "ansible", "pyinfra")
# ssh-c25519: OpenSSH pinned to the key exchange opsforge (asyncssh) negotiates with this
# sshd; stock OpenSSH 9.x picks the post-quantum hybrid sntrup761x25519, ~80 ms of CPU
# per connection on each side here.
SSH_VARIANTS = {"ssh": [], "ssh-c25519": ["-o", "KexAlgorithms=curve25519-sha256"]}


def _parse_runs_spec(text: str) -> dict[tuple[str | None, int], int]:
    """``N:runs`` (every tool at N) or ``tool:N:runs`` (one tool at N)."""
    spec: dict[tuple[str | None, int], int] = {}
    for item in text.split():
        parts = item.split(":")
        if len(parts) == 2:
            spec[(None, int(parts[0]))] = int(parts[1])
        elif len(parts) == 3:
            spec[(parts[0], int(parts[1]))] = int(parts[2])
        else:
            sys.exit(f"RUNS_SPEC: bad item {item!r} (want N:runs or tool:N:runs)")
    return spec


def _parse_plan(text: str) -> dict[str, set[int]]:
    """``tool:n1,n2``: run that tool only at these N."""
    plan: dict[str, set[int]] = {}
    for item in text.split():
        tool, _, ns = item.partition(":")
        plan[tool] = {int(n) for n in ns.split(",") if n}
    return plan


RUNS_SPEC = _parse_runs_spec(os.environ.get("RUNS_SPEC", ""))
PLAN = _parse_plan(os.environ.get("PLAN", ""))

for _tool in TOOLS:
    if _tool not in KNOWN_TOOLS:
        sys.exit(f"unknown tool {_tool!r}; known: {' '.join(KNOWN_TOOLS)}")
for _cmd in COMMANDS:
    if _cmd not in ALL_COMMANDS:
        sys.exit(f"unknown command {_cmd!r}; known: {' '.join(ALL_COMMANDS)}")

PIDFILE = ROOT / "pids.txt"
LAB_ROOT = ROOT / "lab"
ANSIBLE_DIR = ROOT / "ansible"
CONTROL_DIR = ANSIBLE_DIR / "cp"
SSH_OUT = ROOT / "work" / "ssh-out"


def log(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)


def record(pid: int, what: str) -> None:
    with PIDFILE.open("a") as handle:
        handle.write(f"{pid} {what}\n")


def runs_for(tool: str, n: int) -> int:
    return RUNS_SPEC.get((tool, n), RUNS_SPEC.get((None, n), RUNS))


def planned(tool: str, n: int) -> bool:
    return tool not in PLAN or n in PLAN[tool]


# ------------------------------------------------------------------ processes
def _proc_table() -> dict[int, tuple[int, str]]:
    """pid -> (ppid, state) for every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        table[int(entry)] = (int(fields[1]), fields[0])
    return table


def _alive(pid: int) -> bool:
    state = _proc_table().get(pid)
    return state is not None and state[1] != "Z"


def wait_lab_idle(sshd_pids: Sequence[int], timeout: float = 10.0) -> float:
    """Wait until no sshd listener has a per-connection child left; seconds waited."""
    t0 = time.monotonic()
    listeners = set(sshd_pids)
    while time.monotonic() - t0 < timeout:
        if not any(ppid in listeners for ppid, _ in _proc_table().values()):
            break
        time.sleep(0.02)
    return time.monotonic() - t0


def stop_control_masters() -> int:
    """Stop the ssh ControlMaster processes Ansible left in CONTROL_DIR, by PID."""
    if not CONTROL_DIR.is_dir():
        return 0
    stopped = 0
    for sock in sorted(CONTROL_DIR.iterdir()):
        check = subprocess.run(
            [SSH, "-F", "/dev/null", "-S", str(sock), "-O", "check", "x"],
            capture_output=True,
            text=True,
        )
        found = re.search(r"pid=(\d+)", check.stdout + check.stderr)
        if found:
            pid = int(found.group(1))
            record(pid, "ssh ControlMaster left by ansible")
            subprocess.run(
                [SSH, "-F", "/dev/null", "-S", str(sock), "-O", "exit", "x"], capture_output=True
            )
            deadline = time.monotonic() + 3
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            stopped += 1
        sock.unlink(missing_ok=True)
    return stopped


def _kill_group(pgid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        time.sleep(1)


# ------------------------------------------------------------------ inputs
def write_inputs(info: LabInfo, n: int) -> Path:
    """Inventories for the first n lab hosts: YAML (opsforge, ansible), .py (pyinfra), .sh (ssh)."""
    out = ROOT / "inv" / f"n{n}"
    out.mkdir(parents=True, exist_ok=True)
    hosts = info.hosts[:n]
    lab_inv = yaml.safe_load(info.inventory.read_text())["all"]
    inventory = {
        "all": {
            "hosts": {h.name: lab_inv["hosts"][h.name] for h in hosts},
            "vars": lab_inv["vars"],  # UserKnownHostsFile=<lab known_hosts>, strict checking
        }
    }
    (out / "inventory.yml").write_text(yaml.safe_dump(inventory, sort_keys=False))

    known = str(info.known_hosts)
    items = [
        (
            h.name,
            {
                "ssh_hostname": "127.0.0.1",
                "ssh_port": h.port,
                "ssh_user": info.user,
                "ssh_key": str(info.key),
                "ssh_known_hosts_file": known,
                "ssh_strict_host_key_checking": "yes",
            },
        )
        for h in hosts
    ]
    (out / "inventory.py").write_text(f"lab = {items!r}\n")

    for tool, extra in SSH_VARIANTS.items():
        write_fanout(out / f"fanout-{tool}.sh", info, hosts, extra)
    return out


def write_fanout(path: Path, info: LabInfo, hosts: Sequence[LabHost], extra: list[str]) -> None:
    """A sh script: one plain OpenSSH connection per host, all at once; prints HOST EXIT."""
    known = str(info.known_hosts)
    lines = [
        "#!/bin/sh",
        "# One plain OpenSSH connection per host, all started at once, then wait for each.",
        '# usage: sh fanout-VARIANT.sh OUTDIR COMMAND   (prints "HOST EXIT" per host)',
        "out=$1 cmd=$2 rc=0",
    ]
    for i, h in enumerate(hosts):
        argv = [
            SSH,
            "-F", "/dev/null",
            "-n",
            "-o", "BatchMode=yes",
            "-o", f"UserKnownHostsFile={known}",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "IdentitiesOnly=yes",
            "-o", "ControlMaster=no",
            "-o", "ControlPath=none",
            "-o", "LogLevel=ERROR",
            *extra,
            "-i", str(info.key),
            "-p", str(h.port),
            f"{info.user}@127.0.0.1",
        ]  # fmt: skip
        lines.append(
            f'{shlex.join(argv)} "$cmd" >"$out/{h.name}.out" 2>"$out/{h.name}.err" & p{i}=$!'
        )
    for i, h in enumerate(hosts):
        lines.append(f'wait "$p{i}"; s=$?; echo "{h.name} $s"; [ "$s" -eq 0 ] || rc=1')
    lines.append('exit "$rc"')
    path.write_text("\n".join(lines) + "\n")


def write_ansible_cfg() -> Path:
    for sub in ("cp", "tmp", "home"):
        (ANSIBLE_DIR / sub).mkdir(parents=True, exist_ok=True)
    cfg = ANSIBLE_DIR / "ansible.cfg"
    # Stock ssh_args (ControlMaster=auto, ControlPersist=60s); masters are
    # stopped after every run so each run starts cold. usetty=False: the lab
    # sshd has PermitTTY no (no login records), and nobody else gets a PTY.
    # Host keys: checked (the default), against the lab's known_hosts, via the
    # inventory's ansible_ssh_common_args.
    cfg.write_text(
        "[defaults]\n"
        "retry_files_enabled = False\n"
        f"local_tmp = {ANSIBLE_DIR}/tmp\n"
        f"forks = {FORKS}\n"
        "[ssh_connection]\n"
        f"control_path_dir = {CONTROL_DIR}\n"
        "usetty = False\n"
    )
    return cfg


def base_env() -> dict[str, str]:
    drop = {"SSH_AUTH_SOCK", "SSH_AGENT_PID", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("ANSIBLE_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    (ROOT / "client-home").mkdir(exist_ok=True)
    env.update(
        # no ~/.ssh/config, ~/.ansible, ~/.local site-packages of this machine
        HOME=str(ROOT / "client-home"),
        # bytecode cache under ROOT for every Python tool (the repo stays untouched)
        PYTHONPYCACHEPREFIX=str(ROOT / "pycache"),
        NO_COLOR="1",
        OPSFORGE_STATE_DIR=str(ROOT / "opsforge-state"),
        ANSIBLE_CONFIG=str(ANSIBLE_DIR / "ansible.cfg"),
        ANSIBLE_HOME=str(ANSIBLE_DIR / "home"),
        ANSIBLE_NOCOLOR="1",
    )
    return env


def tool_argv(tool: str, inv: Path, command: str) -> list[str]:
    if tool == "opsforge":
        return [OPSFORGE, "exec", "all", "-i", str(inv / "inventory.yml"),
                "--forks", str(FORKS), "--", command]  # fmt: skip
    if tool in SSH_VARIANTS:
        return ["/bin/sh", str(inv / f"fanout-{tool}.sh"), str(SSH_OUT), command]
    if tool == "ansible":
        return [str(BENCH_VENV / "bin" / "ansible"), "all", "-i", str(inv / "inventory.yml"),
                "-m", "raw", "-a", command, "-f", str(FORKS)]  # fmt: skip
    if tool == "pyinfra":
        return [str(BENCH_VENV / "bin" / "pyinfra"), "-y", "--parallel", str(FORKS),
                str(inv / "inventory.py"), "exec", "--", command]  # fmt: skip
    raise ValueError(tool)


# ------------------------------------------------------------------ verification
def verify(
    tool: str, cmd: str, names: Sequence[str], rc: int | None, out: str, err: str
) -> list[str]:
    """Problems with one run: exit code, and every host reported (with output for os-release)."""
    problems = [] if rc == 0 else [f"exit code {rc}"]
    want_output = cmd == "os-release"
    if tool == "opsforge":
        n = len(names)
        if not re.search(rf"^{n} hosts? · {n} ok\b", err, re.M):
            problems.append(f"no {n} host(s) · {n} ok recap")
        for name in names:
            if not re.search(rf"^{re.escape(name)}\s+ok\s+0\s", err, re.M):
                problems.append(f"{name}: not ok in recap")
            if want_output and not re.search(rf"^{re.escape(name)} *\| PRETTY_NAME=", out, re.M):
                problems.append(f"{name}: no output")
    elif tool in SSH_VARIANTS:
        for name in names:
            if not re.search(rf"^{re.escape(name)} 0$", out, re.M):
                problems.append(f"{name}: ssh failed")
            if want_output:
                host_out = SSH_OUT / f"{name}.out"
                if not host_out.exists() or "PRETTY_NAME=" not in host_out.read_text():
                    problems.append(f"{name}: no output")
    elif tool == "ansible":
        blocks = dict(
            re.findall(r"^(\S+) \| CHANGED \| rc=0 >>\n(.*?)(?=^\S+ \| |\Z)", out, re.M | re.S)
        )
        for name in names:
            if name not in blocks:
                problems.append(f"{name}: not CHANGED rc=0")
            elif want_output and "PRETTY_NAME=" not in blocks[name]:
                problems.append(f"{name}: no output")
    elif tool == "pyinfra":
        both = out + err
        for name in names:
            if not re.search(rf"\[{re.escape(name)}\] +Success", both):
                problems.append(f"{name}: no Success")
            if want_output and not re.search(rf"^\[{re.escape(name)}\] +PRETTY_NAME=", both, re.M):
                problems.append(f"{name}: no output")
    return problems


# ------------------------------------------------------------------ running
def busy_seconds() -> float:
    """CPU seconds this machine has spent busy (all cores, not idle/iowait) since boot."""
    with open("/proc/stat") as handle:
        vals = [int(x) for x in handle.readline().split()[1:]]
    return (sum(vals) - vals[3] - vals[4]) / os.sysconf("SC_CLK_TCK")


def wait_quiet() -> tuple[float, float]:
    """Wait for a quiet machine; (background busy fraction of the last sample, s waited)."""
    t0 = time.monotonic()
    cores = os.cpu_count() or 1
    while True:
        b0, s0 = busy_seconds(), time.monotonic()
        time.sleep(0.2)
        frac = (busy_seconds() - b0) / (time.monotonic() - s0) / cores
        if frac < IDLE_BUSY or time.monotonic() - t0 > IDLE_WAIT:
            return frac, time.monotonic() - t0


def run_once(
    argv: Sequence[str], env: dict[str, str], log_base: Path, label: str
) -> dict[str, Any]:
    """Start argv in its own process group, wait; wall and CPU of the process tree."""
    out_path, err_path = log_base.with_suffix(".out"), log_base.with_suffix(".err")
    ru0, busy0 = os.times(), busy_seconds()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=env,
            cwd=ROOT,
            start_new_session=True,  # on timeout/abort its whole group is stopped by that id
        )
        record(proc.pid, f"{label} (process group)")
        # A blocking wait returns the moment the process exits; Popen.wait(timeout=...)
        # polls with sleeps of up to 50 ms, which would quantise every time measured.
        # The timeout is a timer thread that stops the process group instead.
        timer = threading.Timer(RUN_TIMEOUT, _kill_group, (proc.pid,))
        timer.daemon = True
        timer.start()
        try:
            rc: int | None = proc.wait()
        except BaseException:
            _kill_group(proc.pid)
            proc.wait()
            raise
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        if wall >= RUN_TIMEOUT:
            rc = None  # stopped by the timer
    ru1, busy1 = os.times(), busy_seconds()
    cpu = (ru1.children_user - ru0.children_user) + (ru1.children_system - ru0.children_system)
    # machine: every process on the box during the run (tool + sshd sessions + others)
    return {"rc": rc, "wall": wall, "cpu": cpu, "machine_cpu": busy1 - busy0, "log": str(log_base)}


def measure_block(
    info: LabInfo, n: int, inv: Path, cmd: str, env: dict[str, str], logs: Path
) -> list[dict[str, Any]]:
    """Warm-up then RUNS rounds for one (command, N); tool order rotates every round."""
    tools = [t for t in TOOLS if planned(t, n)]
    names = [h.name for h in info.hosts[:n]]
    sshd_pids = [h.pid for h in info.hosts]
    blocks = {t: {"tool": t, "command": cmd, "n": n, "warmup": [], "runs": []} for t in tools}

    def one(tool: str, tag: str) -> dict[str, Any]:
        if tool in SSH_VARIANTS:
            shutil.rmtree(SSH_OUT, ignore_errors=True)
            SSH_OUT.mkdir(parents=True)
        label = f"{tool}-{cmd}-n{n}-{tag}"
        background, waited = wait_quiet()
        res = run_once(tool_argv(tool, inv, ALL_COMMANDS[cmd]), env, logs / label, label)
        out = Path(res["log"]).with_suffix(".out").read_text(errors="replace")
        err = Path(res["log"]).with_suffix(".err").read_text(errors="replace")
        res["problems"] = verify(tool, cmd, names, res["rc"], out, err)
        res["ok"] = not res["problems"]
        res["masters_stopped"] = stop_control_masters() if tool == "ansible" else 0
        res["settle"] = wait_lab_idle(sshd_pids)
        res["background_busy"], res["quiet_wait"] = background, waited
        flag = "ok" if res["ok"] else f"FAILED: {'; '.join(res['problems'][:4])}"
        log(
            f"  {label:32s} {res['wall']:7.3f}s  cpu {res['cpu']:6.2f}s "
            f"machine {res['machine_cpu']:6.2f}s  bg {background:4.0%}  {flag}"
        )
        return res

    for w in range(WARMUP):
        for tool in tools:
            blocks[tool]["warmup"].append(one(tool, f"w{w + 1}"))
    rounds = max((runs_for(t, n) for t in tools), default=0)
    for r in range(rounds):
        order = tools[r % len(tools) :] + tools[: r % len(tools)]
        for tool in order:
            if len(blocks[tool]["runs"]) < runs_for(tool, n):
                blocks[tool]["runs"].append(one(tool, str(r + 1)))
    return list(blocks.values())


def measure_startup(env: dict[str, str], logs: Path) -> list[dict[str, Any]]:
    """Median wall of each tool doing nothing: interpreter + import cost."""
    python = sys.executable
    cases = [("python -c pass", [python, "-c", "pass"])]
    if "opsforge" in TOOLS:
        cases += [
            ("python -c 'import opsforge'", [python, "-c", "import opsforge"]),
            ("opsforge --version", [OPSFORGE, "--version"]),
            ("opsforge exec --help", [OPSFORGE, "exec", "--help"]),
        ]
    if "ansible" in TOOLS:
        cases.append(("ansible --version", [str(BENCH_VENV / "bin" / "ansible"), "--version"]))
    if "pyinfra" in TOOLS:
        cases.append(("pyinfra --version", [str(BENCH_VENV / "bin" / "pyinfra"), "--version"]))
    rows = []
    for label, argv in cases:
        run_once(argv, env, logs / "startup-warmup", label)  # fills the bytecode cache
        walls = []
        for _ in range(STARTUP_RUNS):
            wait_quiet()
            res = run_once(argv, env, logs / "startup", label)
            if res["rc"] != 0:
                raise SystemExit(f"{label} failed (rc {res['rc']}), see {logs}/startup.err")
            walls.append(res["wall"])
        rows.append({"what": label, "median": statistics.median(walls), "min": min(walls)})
        log(f"  startup {label:32s} {rows[-1]['median']:.3f}s")
    return rows


def versions(env: dict[str, str]) -> dict[str, str]:
    def first_line(argv: list[str]) -> str:
        try:
            r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"unavailable ({exc})"
        return ((r.stdout or r.stderr).strip().splitlines() or ["?"])[0]

    cpu = "?"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    repo = str(HERE.parent.parent)
    commit = first_line(["git", "-C", repo, "rev-parse", "--short", "HEAD"])
    dirty = first_line(["git", "-C", repo, "status", "--porcelain", "--", "src"]) != "?"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "opsforge_commit": commit + (" (src/ has uncommitted changes)" if dirty else ""),
        "machine": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "opsforge": first_line([OPSFORGE, "--version"]),
        "ansible": first_line([str(BENCH_VENV / "bin" / "ansible"), "--version"]),
        "pyinfra": first_line([str(BENCH_VENV / "bin" / "pyinfra"), "--version"]),
        "openssh": first_line([SSH, "-V"]),
    }


# ------------------------------------------------------------------ report
def _median(block: dict[str, Any] | None) -> tuple[float | None, int]:
    """Median wall of the successful runs, and how many runs failed."""
    if not block or not block["runs"]:
        return None, 0
    good = [r["wall"] for r in block["runs"] if r["ok"]]
    return (statistics.median(good) if good else None), len(block["runs"]) - len(good)


def render(
    meta: dict[str, str], startup: list[dict[str, Any]], results: list[dict[str, Any]]
) -> str:
    def cell(value: float | None, failed: int) -> str:
        text = "–" if value is None else f"{value:.3f}"
        return text + (f" ({failed} failed)" if failed else "")

    def ratio(a: float | None, b: float | None, digits: int) -> str:
        return "–" if a is None or b is None or b == 0 else f"{a / b:.{digits}f}"

    by_key = {(r["command"], r["n"], r["tool"]): r for r in results}
    lines = [
        f"exec_fanout — {meta['date']} — {meta['cpu']}, {meta['cores']} cores, {meta['machine']}",
        f"{meta['opsforge']} (commit {meta['opsforge_commit']}) · {meta['ansible']} · "
        f"{meta['pyinfra']} · {meta['openssh']}",
        "",
        "Median wall seconds (process start to exit), successful runs only; "
        "ratios > 1 against peers = opsforge faster.",
        "",
        "| command | N | opsforge | ssh-parallel | ssh-parallel (curve25519) | ansible | pyinfra "
        "| ansible/opsforge | pyinfra/opsforge | opsforge/ssh | opsforge/ssh (curve25519) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for cmd in COMMANDS:
        for n in N_LIST:
            med = {t: _median(by_key.get((cmd, n, t))) for t in KNOWN_TOOLS}
            o, s, c, a, p = (med[t][0] for t in KNOWN_TOOLS)
            lines.append(
                f"| `{ALL_COMMANDS[cmd]}` | {n} | "
                + " | ".join(cell(*med[t]) for t in KNOWN_TOOLS)
                + f" | {ratio(a, o, 1)} | {ratio(p, o, 1)} | {ratio(o, s, 2)} | {ratio(o, c, 2)} |"
            )
    lines += [
        "",
        "Per tool: CPU = the tool's process tree; machine CPU = all cores busy during the run "
        "(tool + sshd sessions + anything else); bg = machine busy just before the run.",
        "",
        "| tool | command | N | runs | median s | min s | max s | CPU s | machine CPU s "
        "| bg busy (max) | ok |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for r in results:
        runs = r["runs"]
        if not runs:
            continue
        walls = [x["wall"] for x in runs]
        lines.append(
            f"| {r['tool']} | `{ALL_COMMANDS[r['command']]}` | {r['n']} | {len(runs)} | "
            f"{statistics.median(walls):.3f} | {min(walls):.3f} | {max(walls):.3f} | "
            f"{statistics.median(x['cpu'] for x in runs):.2f} | "
            f"{statistics.median(x['machine_cpu'] for x in runs):.2f} | "
            f"{max(x['background_busy'] for x in runs):.0%} | "
            f"{sum(x['ok'] for x in runs)}/{len(runs)} |"
        )
    if startup:
        lines += ["", "| startup (does nothing) | median s | min s |", "|---|--:|--:|"]
        lines += [f"| `{s['what']}` | {s['median']:.3f} | {s['min']:.3f} |" for s in startup]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ main
def on_signal(signum: int, frame: object) -> None:
    raise SystemExit(f"signal {signum}")


def main() -> None:
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    ROOT.mkdir(parents=True, exist_ok=True)
    PIDFILE.touch()
    out_dir = ROOT / "results" / time.strftime("%Y%m%d-%H%M%S")
    logs = out_dir / "logs"
    logs.mkdir(parents=True)
    write_ansible_cfg()
    env = base_env()
    meta = versions(env)
    meta["settings"] = (
        f"N_LIST={' '.join(map(str, N_LIST))} RUNS={RUNS} WARMUP={WARMUP} FORKS={FORKS} "
        f"TOOLS={' '.join(TOOLS)} COMMANDS={' '.join(COMMANDS)} "
        f"RUNS_SPEC={os.environ.get('RUNS_SPEC', '')} PLAN={os.environ.get('PLAN', '')}"
    )
    log("\n".join(f"{k}: {v}" for k, v in meta.items()))
    results: list[dict[str, Any]] = []
    startup: list[dict[str, Any]] = []

    def save() -> None:
        data = {"meta": meta, "startup": startup, "results": results}
        (out_dir / "results.json").write_text(json.dumps(data, indent=1) + "\n")

    lab_down(LAB_ROOT)  # a lab an aborted run left behind (stopped by recorded PID)
    lab = SSHLab(LAB_ROOT, max(N_LIST))
    try:
        t0 = time.monotonic()
        info = lab.start()
        for h in info.hosts:
            record(h.pid, f"sshd {h.name} port {h.port} (opsforge lab)")
        log(f"lab: {len(info.hosts)} sshd hosts up in {time.monotonic() - t0:.1f}s ({LAB_ROOT})")
        if STARTUP_RUNS:
            startup = measure_startup(env, logs)
            save()
        for n in N_LIST:
            inv = write_inputs(info, n)
            for cmd in COMMANDS:
                log(f"== {ALL_COMMANDS[cmd]!r} on N={n}")
                results += measure_block(info, n, inv, cmd, env, logs)
                save()
    finally:
        stop_control_masters()
        stopped = lab.stop()
        log(f"stopped {stopped} sshd processes by PID (every started PID is in {PIDFILE})")
    table = render(meta, startup, results)
    (out_dir / "table.md").write_text(table)
    print(table)
    log(f"results: {out_dir}/table.md, {out_dir}/results.json")


if __name__ == "__main__":
    main()
