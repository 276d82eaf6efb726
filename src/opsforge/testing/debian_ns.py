"""Namespaces, links, mounts and the state registry of Debian test hosts.

Everything a run creates on this machine — network namespaces, veth pairs, overlay
mounts, processes — is written to a state file in the registry *before* it is
created, so a run that crashed (its owner process is gone) can be cleaned up by
the next one from that file alone: processes by recorded PID and start time and
by the PID namespace they live in, mounts by path, links and namespaces by name.
Nothing is ever looked up or killed by process name.

Inside a host, every process lives in the host's own PID namespace; killing that
namespace's init (from here) makes the kernel kill everything left in it, and the
host's private mounts (proc, sys, dev, run, tmp, the repo) go with its mount
namespace.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from opsforge.testing.debian_cache import DebianHostsError
from opsforge.testing.lab import _start_ticks

__all__ = [
    "CAP_DROP",
    "cleanup_leftovers",
    "create_link",
    "mount_rootfs",
    "pidns_of",
    "pids_in",
    "registry_dir",
    "teardown",
]

RUN_DIR_ENV = "OPSFORGE_TEST_RUN_DIR"
DEFAULT_RUN_DIR = Path("/run/opsforge-test/debian-hosts")
SUBNET = "10.213"  # host i: 10.213.X.1 (this machine) <-> 10.213.X.2 (the host), /30
#: capabilities no test host keeps: they reach past its namespaces (clock, kernel modules,
#: raw I/O, the kernel log, wake alarms, LSM policy)
CAP_DROP = ("sys_module", "sys_time", "sys_rawio", "syslog", "wake_alarm", "mac_admin")
STOP_GRACE = 3.0
STOP_TIMEOUT = 10.0

HostState = dict[str, Any]
RunState = dict[str, Any]


def registry_dir() -> Path:
    return Path(os.environ.get(RUN_DIR_ENV) or DEFAULT_RUN_DIR)


def cap_drop_arg() -> str:
    return "--bounding-set=" + ",".join(f"-{cap}" for cap in CAP_DROP)


def run(cmd: Sequence[str], what: str | None = None, *, check: bool = True) -> str:
    """Run a plumbing command; DebianHostsError with its stderr when it fails and ``check``."""
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=60)
    if check and proc.returncode:
        detail = (proc.stderr or proc.stdout).strip()
        raise DebianHostsError(f"{what or ' '.join(cmd)} failed (exit {proc.returncode}): {detail}")
    return proc.stdout


# -- state registry -------------------------------------------------------------------------


def write_state(path: Path, state: RunState) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(state, indent=1) + "\n")
    os.replace(tmp, path)


@contextlib.contextmanager
def registry_lock() -> Iterator[Path]:
    """The registry directory, locked against other runs allocating names and subnets."""
    where = registry_dir()
    where.mkdir(parents=True, exist_ok=True)
    with (where / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield where
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _states(where: Path) -> list[tuple[Path, RunState]]:
    found = []
    for path in sorted(where.glob("*.json")):
        with contextlib.suppress(OSError, ValueError):
            found.append((path, json.loads(path.read_text())))
    return found


def owner_alive(state: RunState) -> bool:
    return _start_ticks(int(state.get("owner_pid", 0))) == state.get("owner_ticks")


def used_indexes(where: Path) -> set[int]:
    """Subnet indexes taken by any recorded run or configured on any link here."""
    used = {int(h["index"]) for _, state in _states(where) for h in state.get("hosts", [])}
    addresses = run(["ip", "-o", "-4", "addr", "show"], check=False)
    used |= {int(x) for x in re.findall(rf"inet {re.escape(SUBNET)}\.(\d+)\.\d+/", addresses)}
    return used


# -- links ----------------------------------------------------------------------------------


def create_link(netns: str, veth: str, gateway: str, address: str) -> None:
    """Namespace ``netns`` with ``eth0`` at ``address``/30, paired with ``veth`` here at
    ``gateway``/30. No default route inside: the host reaches this machine only."""
    run(["ip", "netns", "add", netns])
    run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns])
    run(["ip", "addr", "add", f"{gateway}/30", "dev", veth])
    run(["ip", "link", "set", veth, "up"])
    run(["ip", "-n", netns, "addr", "add", f"{address}/30", "dev", "eth0"])
    run(["ip", "-n", netns, "link", "set", "eth0", "up"])
    run(["ip", "-n", netns, "link", "set", "lo", "up"])


def netns_exists(netns: str) -> bool:
    return (Path("/run/netns") / netns).exists()


def link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def delete_link(netns: str, veth: str) -> None:
    if link_exists(veth):
        run(["ip", "link", "del", veth], check=False)
    if netns_exists(netns):
        run(["ip", "netns", "del", netns], f"ip netns del {netns}")


# -- mounts ---------------------------------------------------------------------------------


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mount_points() -> list[str]:
    """Mount points of this process's mount namespace (``/proc/self/mountinfo``)."""
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
        return [_unescape(line.split()[4]) for line in handle if line.strip()]


def mount_rootfs(lower: Path, upper: Path, work: Path, merged: Path) -> bool:
    """An overlay of ``lower`` at ``merged`` (True), or a full copy when overlayfs refuses
    (False): e.g. when the host directory itself lies on an overlay."""
    for path in (upper, work, merged):
        path.mkdir(parents=True, exist_ok=True)
    options = f"lowerdir={lower},upperdir={upper},workdir={work}"
    proc = subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", options, str(merged)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode == 0:
        return True
    run(["cp", "-a", f"{lower}/.", str(merged)], f"copying the rootfs to {merged}")
    return False


def unmount(path: str) -> None:
    if path in mount_points():
        proc = subprocess.run(["umount", path], capture_output=True, text=True, check=False)
        if proc.returncode and path in mount_points():
            run(["umount", "-l", path], f"umount {path}")


# -- processes ------------------------------------------------------------------------------


def pidns_of(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def pids_in(pidns: str) -> list[int]:
    """Live (not zombie) processes whose PID namespace is ``pidns`` (``pid:[INODE]``)."""
    pids = (int(entry) for entry in os.listdir("/proc") if entry.isdigit())
    return sorted(p for p in pids if pidns_of(p) == pidns and _start_ticks(p) is not None)


def _alive(pid: int | None, ticks: int | None) -> bool:
    return pid is not None and ticks is not None and _start_ticks(pid) == ticks


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _wait(done: Callable[[], bool], within: float) -> bool:
    deadline = time.monotonic() + within
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _opt_int(value: object) -> int | None:
    return int(value) if isinstance(value, int | str) else None


def stop_processes(host: HostState, procs: dict[int, subprocess.Popen[bytes]]) -> None:
    """TERM every process of the host but its init and wait (a while) for them, then KILL
    the init: the kernel kills
    whatever is left in the PID namespace. Then the wrapper (``unshare``) outside it, whose
    death also KILLs an init not yet recorded (``--kill-child``)."""
    init = _opt_int(host.get("init_pid"))
    pidns = host.get("pidns")
    if init is not None and pidns and _alive(init, _opt_int(host.get("init_ticks"))):
        # TERM what runs now (init respawns its sleep: new PIDs are not waited for)
        running = {pid: _start_ticks(pid) for pid in pids_in(pidns) if pid != init}
        for pid in running:
            _signal(pid, signal.SIGTERM)
        _wait(lambda: not any(_alive(p, t) for p, t in running.items()), STOP_GRACE)
        _signal(init, signal.SIGKILL)
    wrapper, ticks = _opt_int(host.get("wrapper_pid")), _opt_int(host.get("wrapper_ticks"))
    # unshare reaps the init and exits by itself; KILLed only when it does not
    if wrapper is not None and not _wait(lambda: not _alive(wrapper, ticks), STOP_GRACE):
        _signal(wrapper, signal.SIGKILL)
    if wrapper is not None and wrapper in procs:
        procs.pop(wrapper).wait(STOP_TIMEOUT)
    elif wrapper is not None:
        _wait(lambda: not _alive(wrapper, ticks), STOP_TIMEOUT)
    if pidns and not _wait(lambda: not pids_in(pidns), STOP_TIMEOUT):
        raise DebianHostsError(f"{host['name']}: processes left in {pidns}: {pids_in(pidns)}")


def teardown(state: RunState, procs: dict[int, subprocess.Popen[bytes]] | None = None) -> None:
    """Stop and remove everything ``state`` records (what does not exist is skipped)."""
    errors: list[str] = []
    for host in state.get("hosts", []):
        try:
            stop_processes(host, procs if procs is not None else {})
            merged = host.get("merged")
            if merged and host.get("overlay"):
                unmount(merged)
            elif merged and host.get("overlay") is False:
                shutil.rmtree(merged, ignore_errors=True)  # a full copy: 200 MB
            delete_link(host["netns"], host["veth"])
        except (DebianHostsError, OSError, subprocess.SubprocessError) as exc:
            errors.append(f"{host.get('name')}: {exc}")
    if errors:
        raise DebianHostsError("Debian test hosts not fully stopped: " + "; ".join(errors))


def cleanup_leftovers() -> list[str]:
    """Tear down every recorded run whose owner process is gone (a crashed or killed test
    run); returns the host names cleaned up. Runs whose owner lives are left alone."""
    cleaned: list[str] = []
    with registry_lock() as where:
        for path, state in _states(where):
            if owner_alive(state):
                continue
            teardown(state)
            cleaned += [str(h.get("name")) for h in state.get("hosts", [])]
            path.unlink(missing_ok=True)
    return cleaned
