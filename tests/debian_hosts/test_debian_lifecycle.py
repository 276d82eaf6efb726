"""Starting and stopping Debian test hosts leaves nothing behind, even after a crash."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from opsforge.testing import DebianCache, DebianHosts, DebianHostsInfo, cleanup_leftovers

pytestmark = [pytest.mark.root, pytest.mark.slow]


def netns_names() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return {line.split()[0] for line in out.stdout.splitlines() if line.strip()}


def links() -> set[str]:
    return set(os.listdir("/sys/class/net"))


def mounts_under(root: Path) -> list[str]:
    text = Path("/proc/self/mountinfo").read_text()
    return [line.split()[4] for line in text.splitlines() if line.split()[4].startswith(str(root))]


def running(pids: list[int]) -> list[int]:
    """Those of ``pids`` that still run (a zombie waiting for its reaper does not)."""
    alive = []
    for pid in pids:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                alive.append(pid)
    return alive


def pid_namespaces() -> set[str]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                found.add(os.readlink(f"/proc/{entry}/ns/pid"))
    return found


def assert_gone(info: DebianHostsInfo, pids: list[int]) -> None:
    assert not {h.netns for h in info.hosts} & netns_names()
    assert not {h.veth for h in info.hosts} & links()
    assert mounts_under(info.root) == []
    assert running(pids) == []
    assert not {h.pidns for h in info.hosts} & pid_namespaces()
    assert not info.state_file.exists()


def test_stop_leaves_nothing_behind(debian_cache: DebianCache, tmp_path: Path) -> None:
    started = time.monotonic()
    hosts = DebianHosts(tmp_path / "debian", 2, cache=debian_cache)
    info = hosts.start()
    start_seconds = time.monotonic() - started
    assert start_seconds < 5, start_seconds
    assert {h.netns for h in info.hosts} <= netns_names()
    assert len(mounts_under(info.root)) == 2  # the overlays; the rest lives in the hosts
    # leave work for teardown: a daemon, a mount, a shell still running
    for host in info.hosts:
        info.run_on_host(host.name, f"service {info.service} start", check=True)
        info.run_on_host(host.name, "mkdir -p /mnt/x && mount -t tmpfs tmpfs /mnt/x", check=True)
    info.run_on_host("deb1", "nohup sleep 600 >/dev/null 2>&1 &", check=True)
    pids = [pid for host in info.hosts for pid in info.processes(host.name)]
    assert len(pids) >= 8
    started = time.monotonic()
    hosts.stop()
    assert time.monotonic() - started < 5
    assert_gone(info, pids)
    hosts.stop()  # twice is fine


def test_a_crashed_run_is_cleaned_up_by_the_next(debian_cache: DebianCache, tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import json, sys, time
        from pathlib import Path
        from opsforge.testing import DebianHosts, load_cache
        info = DebianHosts(Path(sys.argv[1]), 1, cache=load_cache(Path(sys.argv[2]))).start()
        host = info.hosts[0]
        info.run_on_host(host.name, "service opsforge-testsvc start", check=True)
        print(json.dumps({"netns": host.netns, "veth": host.veth, "pidns": host.pidns,
                          "pids": info.processes(host.name), "state": str(info.state_file)}))
        sys.stdout.flush()
        time.sleep(600)
        """
    )
    root = tmp_path / "crashed"
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(root), str(debian_cache.path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        left = json.loads(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGKILL)  # no teardown: a crash
        proc.wait()
    assert left["netns"] in netns_names()
    assert Path(left["state"]).exists()
    assert running(left["pids"]) == left["pids"]
    assert len(mounts_under(root)) == 1

    assert cleanup_leftovers() == ["deb1"]

    assert left["netns"] not in netns_names()
    assert left["veth"] not in links()
    assert mounts_under(root) == []
    assert running(left["pids"]) == []
    assert left["pidns"] not in pid_namespaces()
    assert not Path(left["state"]).exists()
    assert cleanup_leftovers() == []
