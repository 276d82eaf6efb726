"""Smoke tests of the Debian test hosts: real Debian 12 userlands, each with its own sshd,
address and namespaces, that opsforge reaches over SSH like any other host."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from opsforge.testing import DebianHostsInfo

pytestmark = [pytest.mark.root, pytest.mark.slow]


def opsforge(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real console script, with a private state directory."""
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(tmp_path / "state"), NO_COLOR="1")
    env.pop("OPSFORGE_INVENTORY", None)
    return subprocess.run(
        [sys.executable, "-m", "opsforge", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )


def inside(hosts: DebianHostsInfo, name: str, command: str) -> str:
    return hosts.run_on_host(name, command, check=True).stdout


def test_two_hosts_come_up(debian_hosts: DebianHostsInfo) -> None:
    assert [h.name for h in debian_hosts.hosts] == ["deb1", "deb2"]
    assert len({h.address for h in debian_hosts.hosts}) == 2
    inventory = yaml.safe_load(debian_hosts.inventory.read_text())["all"]["hosts"]
    for host in debian_hosts.hosts:
        assert inventory[host.name]["ansible_host"] == host.address
        assert inventory[host.name]["ansible_user"] == "root"
        assert inside(debian_hosts, host.name, "cat /etc/debian_version").startswith("12.")
        assert inside(debian_hosts, host.name, "cat /proc/1/comm").strip() != "systemd"
        assert debian_hosts.processes(host.name)  # init, sshd, ...
    known = debian_hosts.known_hosts.read_text().splitlines()
    assert [line.split()[0] for line in known] == [h.address for h in debian_hosts.hosts]
    assert len({line.split()[2] for line in known}) == 2  # a host key of its own each
    specs = debian_hosts.host_specs()
    assert [(s.address, s.port, s.user) for s in specs] == [
        (h.address, 22, "root") for h in debian_hosts.hosts
    ]


def test_exec_through_the_cli(debian_hosts: DebianHostsInfo, tmp_path: Path) -> None:
    proc = opsforge(
        tmp_path,
        *("exec", "all", "-i", str(debian_hosts.inventory)),
        *("--", "cat /etc/debian_version; hostname; id -u"),
    )
    assert proc.returncode == 0, proc.stderr
    for host in debian_hosts.hosts:
        lines = [line for line in proc.stdout.splitlines() if line.startswith(host.name)]
        assert [line.split("| ", 1)[1] for line in lines][1:] == [host.name, "0"], proc.stdout
        assert lines[0].split("| ", 1)[1].startswith("12.")
    assert "2 ok" in proc.stderr


def test_apt_installs_offline_from_the_local_repo(
    debian_hosts: DebianHostsInfo, tmp_path: Path
) -> None:
    sources = inside(debian_hosts, "deb2", "cat /etc/apt/sources.list; ls /etc/apt/sources.list.d")
    assert sources.strip() == "deb [trusted=yes] file:/srv/repo ./"  # the only source
    assert "default" not in inside(debian_hosts, "deb2", "ip route")  # nowhere to go but here
    newest = debian_hosts.repo_packages["hello"][-1]
    proc = opsforge(
        tmp_path,
        *("exec", "deb2", "-i", str(debian_hosts.inventory), "--"),
        "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q hello && hello",
    )
    try:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "deb2 | Hello, world!" in proc.stdout
        version = inside(debian_hosts, "deb2", "dpkg-query -W -f '${Version}' hello")
        assert version == newest
        # a pinned (older) version: the repository offers two
        oldest = debian_hosts.repo_packages["hello"][0]
        inside(debian_hosts, "deb2", f"apt-get install -y -q --allow-downgrades hello={oldest}")
        assert inside(debian_hosts, "deb2", "dpkg-query -W -f '${Version}' hello") == oldest
        # dependencies come from the repository too
        inside(debian_hosts, "deb2", "apt-get install -y -q jq")
        assert inside(debian_hosts, "deb2", "echo '{\"a\": 7}' | jq .a").strip() == "7"
    finally:
        debian_hosts.run_on_host("deb2", "apt-get purge -y -q hello jq libjq1 libonig5")
    assert "ii" not in debian_hosts.run_on_host("deb2", "dpkg -l hello").stdout


def test_hostname_is_the_hosts_own(debian_hosts: DebianHostsInfo) -> None:
    ours = socket.gethostname()
    try:
        inside(debian_hosts, "deb1", "hostname opsforge-renamed")
        assert inside(debian_hosts, "deb1", "hostname").strip() == "opsforge-renamed"
        assert socket.gethostname() == ours
        assert inside(debian_hosts, "deb2", "hostname").strip() == "deb2"
    finally:
        inside(debian_hosts, "deb1", "hostname deb1")


def test_sysctl_is_the_hosts_own(debian_hosts: DebianHostsInfo) -> None:
    knob = Path("/proc/sys/net/ipv4/ip_forward")
    ours = knob.read_text().strip()
    flipped = "0" if ours == "1" else "1"
    before = inside(debian_hosts, "deb1", "sysctl -n net.ipv4.ip_forward").strip()
    try:
        inside(debian_hosts, "deb1", f"sysctl -w net.ipv4.ip_forward={flipped}")
        assert inside(debian_hosts, "deb1", "sysctl -n net.ipv4.ip_forward").strip() == flipped
        assert knob.read_text().strip() == ours
        # sysctls that are not per network namespace would change this machine: refused
        swappiness = Path("/proc/sys/vm/swappiness").read_text()
        refused = debian_hosts.run_on_host("deb1", "sysctl -w vm.swappiness=13")
        assert refused.returncode != 0
        assert Path("/proc/sys/vm/swappiness").read_text() == swappiness
    finally:
        inside(debian_hosts, "deb1", f"sysctl -w net.ipv4.ip_forward={before}")


def test_users_and_groups_stay_inside(debian_hosts: DebianHostsInfo) -> None:
    user = f"oft{uuid.uuid4().hex[:8]}"
    try:
        inside(
            debian_hosts, "deb1", f"groupadd {user}g && useradd -m -G {user}g -s /bin/bash {user}"
        )
        assert f"{user}g" in inside(debian_hosts, "deb1", f"id -Gn {user}")
        assert inside(debian_hosts, "deb1", f"stat -c %U /home/{user}").strip() == user
        for passwd in (Path("/etc/passwd"), debian_hosts.cache.rootfs / "etc/passwd"):
            assert user not in passwd.read_text(), passwd
        assert Path("/etc/group").read_text().count(f"{user}g") == 0
        assert debian_hosts.run_on_host("deb2", f"id {user}").returncode != 0
    finally:
        debian_hosts.run_on_host("deb1", f"userdel -r {user}; groupdel {user}g")


def test_mounts_stay_inside(debian_hosts: DebianHostsInfo) -> None:
    target = f"/mnt/oft-{uuid.uuid4().hex[:8]}"
    try:
        inside(
            debian_hosts, "deb1", f"mkdir -p {target} && mount -t tmpfs -o size=1m tmpfs {target}"
        )
        assert f" {target} tmpfs " in inside(debian_hosts, "deb1", "cat /proc/mounts")
        assert target not in Path("/proc/self/mounts").read_text()
        assert target not in inside(debian_hosts, "deb2", "cat /proc/mounts")
    finally:
        debian_hosts.run_on_host("deb1", f"umount {target}; rmdir {target}")


def test_services_without_systemd(debian_hosts: DebianHostsInfo, tmp_path: Path) -> None:
    """``service`` and /etc/init.d run daemons inside the host's PID namespace;
    invoke-rc.d starts enabled services only (sysvinit's runlevel 2)."""
    svc = debian_hosts.service
    proc = opsforge(
        tmp_path,
        *("exec", "deb1", "-i", str(debian_hosts.inventory), "--"),
        f"service {svc} start && service {svc} status && cat /run/{svc}.pid",
    )
    try:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"{svc} is running" in proc.stdout
        # the daemon (found by its pidfile) is one of the host's processes
        pid_inside = int(proc.stdout.splitlines()[-1].split("| ", 1)[1])
        daemon = debian_hosts.pid_here("deb1", pid_inside)
        assert daemon in debian_hosts.processes("deb1")
        assert os.readlink(f"/proc/{daemon}/ns/pid") == debian_hosts.host("deb1").pidns
        assert inside(debian_hosts, "deb1", "cat /proc/1/comm").strip() != "systemd"
        # invoke-rc.d (package scripts): cron is enabled, the test service is not
        started = debian_hosts.run_on_host("deb1", "invoke-rc.d cron start && service cron status")
        assert started.returncode == 0, started.stderr
        blocked = debian_hosts.run_on_host("deb2", f"invoke-rc.d {svc} start")
        assert "denied" in blocked.stderr
        assert debian_hosts.run_on_host("deb2", f"service {svc} status").returncode != 0
    finally:
        debian_hosts.run_on_host("deb1", f"service {svc} stop; service cron stop")
    assert debian_hosts.run_on_host("deb1", f"service {svc} status").returncode != 0
    assert daemon not in debian_hosts.processes("deb1")
