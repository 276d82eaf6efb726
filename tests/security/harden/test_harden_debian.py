"""The host baseline and a hardening with a real sshd reload on a Debian 12 test host
(its own namespaces, sshd from Debian's package with Debian's sshd_config)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsforge.testing import DebianHostsInfo

pytestmark = [pytest.mark.root, pytest.mark.slow]

LISTEN_PORT = 8731
WEAKEN = f"""
set -e
chmod 0644 /etc/shadow
touch /usr/local/bin/opsforge-ww && chmod 0777 /usr/local/bin/opsforge-ww
useradd -M -s /usr/sbin/nologin opsforge-empty && passwd -d opsforge-empty >/dev/null
useradd -o -u 0 -M -s /usr/sbin/nologin opsforge-toor
echo 'opsforge-empty ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/opsforge-test
chmod 0440 /etc/sudoers.d/opsforge-test
setsid python3 -c 'import socket, time
s = socket.socket(); s.bind(("0.0.0.0", {LISTEN_PORT})); s.listen(); time.sleep(900)' \\
  </dev/null >/dev/null 2>&1 &
echo $! > /run/opsforge-listener.pid
"""
RESTORE = """
chmod 0640 /etc/shadow
rm -f /usr/local/bin/opsforge-ww /etc/sudoers.d/opsforge-test /etc/issue.net.opsforge-test
userdel opsforge-empty 2>/dev/null; userdel -f opsforge-toor 2>/dev/null
[ -s /run/opsforge-listener.pid ] && kill "$(cat /run/opsforge-listener.pid)"
rm -f /run/opsforge-listener.pid /etc/ssh/sshd_config.d/00-opsforge-hardening.conf*
kill -HUP "$(cat /run/sshd.pid)"
true
"""
NOT_FIXABLE = {
    ("baseline.uid0", "opsforge-toor"),
    ("baseline.sudo-nopasswd", "/etc/sudoers.d/opsforge-test"),
    ("baseline.listen-any", f"tcp/{LISTEN_PORT}"),
    ("baseline.unattended-upgrades", ""),  # the package is not installed
    ("ssh.allow-users-groups", ""),  # no allow_users/allow_groups in the policy
}


def opsforge(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(tmp_path / "state"), NO_COLOR="1")
    env.pop("OPSFORGE_INVENTORY", None)
    return subprocess.run(
        [sys.executable, "-m", "opsforge", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


@pytest.fixture
def weak_deb1(debian_hosts: DebianHostsInfo) -> Iterator[DebianHostsInfo]:
    """deb1 with a weakened baseline; put back (and sshd reloaded) afterwards."""
    debian_hosts.run_on_host("deb1", WEAKEN, check=True)
    try:
        yield debian_hosts
    finally:
        debian_hosts.run_on_host("deb1", RESTORE)


def _audit(tmp_path: Path, hosts: DebianHostsInfo, pattern: str) -> set[tuple[str, str]]:
    run = opsforge(tmp_path, "audit", pattern, "-i", str(hosts.inventory), "--format", "json")
    assert run.returncode == 1, run.stderr
    findings = json.loads(run.stdout)["findings"]
    assert all(f["location"]["host"] == pattern for f in findings)
    return {(f["rule_id"], _where(f)) for f in findings}


def _where(finding: dict[str, object]) -> str:
    message = str(finding["message"])
    for marker in ("/etc/sudoers.d/opsforge-test", "opsforge-toor", "opsforge-empty"):
        if marker in message:
            return marker
    if finding["rule_id"] == "baseline.listen-any":
        return message.split(" ")[0]
    location = finding["location"]
    assert isinstance(location, dict)
    path = location.get("path")
    return str(path) if path and str(path).startswith(("/etc/shadow", "/usr/")) else ""


def test_baseline_audit_harden_reload_and_converge(
    weak_deb1: DebianHostsInfo, tmp_path: Path
) -> None:
    hosts = weak_deb1
    sshd_pid = hosts.run_on_host("deb1", "cat /run/sshd.pid", check=True).stdout.strip()
    found = _audit(tmp_path, hosts, "deb1")
    assert {
        ("baseline.shadow-permissions", "/etc/shadow"),
        ("baseline.path-world-writable", "/usr/local/bin/opsforge-ww"),
        ("baseline.empty-password", "opsforge-empty"),
        ("ssh.x11-forwarding", ""),  # Debian's sshd_config: X11Forwarding yes
        ("ssh.weak-kex", ""),  # OpenSSH's defaults offer the NIST curves
    } | NOT_FIXABLE <= found
    assert not {f for f in _audit(tmp_path, hosts, "deb2") if "opsforge" in f[1]}

    harden = opsforge(tmp_path, "harden", "deb1", "-i", str(hosts.inventory))
    assert harden.returncode == 0, harden.stdout + harden.stderr
    drop_in = hosts.run_on_host(
        "deb1", "cat /etc/ssh/sshd_config.d/00-opsforge-hardening.conf", check=True
    ).stdout
    assert "X11Forwarding no\n" in drop_in
    assert "PermitRootLogin prohibit-password\n" in drop_in  # deb1 logs in as root
    after = _audit(tmp_path, hosts, "deb1")
    assert after == NOT_FIXABLE  # clean for every check harden can fix
    state = hosts.run_on_host(
        "deb1",
        "stat -c %a /etc/shadow /usr/local/bin/opsforge-ww; getent shadow opsforge-empty; "
        "cat /run/sshd.pid; ls /etc/ssh/sshd_config.d",
        check=True,
    ).stdout.split()
    assert state[:2] == ["640", "775"]
    assert state[2].split(":")[1].startswith("!")  # locked
    assert state[3] == sshd_pid  # reloaded (SIGHUP re-exec), not restarted
    assert "00-opsforge-hardening.conf.opsforge-prev" not in state
    again = opsforge(tmp_path, "harden", "deb1", "-i", str(hosts.inventory))
    assert again.returncode == 0, again.stderr
    assert "| changed |" not in again.stdout + again.stderr
    assert "1 ok" in again.stderr
    check = opsforge(tmp_path, "harden", "deb1", "-i", str(hosts.inventory), "--check", "--diff")
    assert "would change" not in check.stdout + check.stderr
