"""System operations end to end: ``opsforge apply`` of Python deploys against real Debian 12
hosts (apt from the local repository, an init.d service, users, cron, sysctl, hostname,
mounts). Every deploy converges on the first apply and changes nothing on the second;
``--check`` first changes nothing. The host's state is read from inside it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from opsforge.testing import DebianHostsInfo

from .debian_apply import apply_cli

pytestmark = [pytest.mark.root, pytest.mark.slow]

HOST = "deb1"
USER = "opsforge-sys"
GROUP = "opsforge-sysg"
HASH = "$6$opsforgesalt$" + "a" * 86
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOpsforgeTestKeyOnlyForTestsXXXXXXXXXXXXXXXX test@ci"
MOUNT = "/mnt/opsforge-tmp"
CRON_TAG = "#Ansible: opsforge-job"

PREAMBLE = """
from opsforge.deploy.operations import packages, services, system, users
"""

CONVERGE = (
    PREAMBLE
    + f"""

def deploy(host):
    packages.apt(host, ["hello=2.10-3", "tree"], update_cache=True, cache_valid_time=3600)
    services.service(host, "opsforge-testsvc", state="started", enabled=True)
    users.group(host, "{GROUP}")
    users.user(host, "{USER}", shell="/bin/sh", groups=["{GROUP}"], password="{HASH}")
    users.authorized_key(host, "{USER}", "{KEY}")
    system.cron(host, "opsforge-job", "/bin/true", minute="5", hour="3", user="root")
    system.sysctl(host, "net.ipv4.ip_forward", host.vars["forward"])
    system.hostname(host, "opsforge-sys1")
    system.mount(host, "{MOUNT}", src="tmpfs", fstype="tmpfs", opts="size=1m")
"""
)

MODIFY = (
    PREAMBLE
    + f"""

def deploy(host):
    packages.apt(host, "hello", state="latest")
    packages.apt(host, "tree", state="absent")
    services.service(host, "opsforge-testsvc", state="stopped", enabled=False)
    users.user(host, "{USER}", shell="/bin/bash", groups=[])
"""
)

RESTART = (
    PREAMBLE
    + """

def deploy(host):
    services.service(host, "opsforge-testsvc", state="restarted")
"""
)

CLEAN = (
    PREAMBLE
    + f"""

def deploy(host):
    packages.apt(host, "hello", state="absent", purge=True)
    users.user(host, "{USER}", state="absent", remove=True)
    users.group(host, "{GROUP}", state="absent")
    system.cron(host, "opsforge-job", user="root", state="absent")
    system.sysctl(host, "net.ipv4.ip_forward", state="absent")
    system.hostname(host, "{HOST}")
    system.mount(host, "{MOUNT}", state="absent")
"""
)


def apply(
    tmp_path: Path, hosts: DebianHostsInfo, source: str, *args: str, inventory: Path | None = None
) -> tuple[Counter[str], list[dict[str, Any]], str]:
    """``opsforge apply`` of ``source`` on deb1; the operation statuses, events, stderr."""
    return apply_cli(
        tmp_path, HOST, source, *args, inventory=inventory or tmp_path / "inventory.yml"
    )


def inside(hosts: DebianHostsInfo, command: str) -> str:
    return hosts.run_on_host(HOST, command, check=True).stdout.strip()


def status(hosts: DebianHostsInfo, package: str) -> str:
    out = hosts.run_on_host(HOST, f"dpkg-query -W -f '${{Status}} ${{Version}}' {package}")
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def _inventory(tmp_path: Path, hosts: DebianHostsInfo, forward: str) -> None:
    import yaml

    data = yaml.safe_load(hosts.inventory.read_text())
    data["all"]["vars"]["forward"] = forward
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(data, sort_keys=False))


def _restore(hosts: DebianHostsInfo, forward: str) -> None:
    hosts.run_on_host(
        HOST,
        f"umount {MOUNT} 2>/dev/null; sed -i '\\#{MOUNT}#d' /etc/fstab; "
        f"userdel -r {USER} 2>/dev/null; groupdel {GROUP} 2>/dev/null; "
        "crontab -r -u root 2>/dev/null; rm -f /etc/sysctl.d/99-opsforge.conf; "
        f"sysctl -q -w net.ipv4.ip_forward={forward}; hostname {HOST}; echo {HOST} >/etc/hostname; "
        "/etc/init.d/opsforge-testsvc stop; update-rc.d opsforge-testsvc disable; "
        "apt-get purge -y -q hello tree >/dev/null 2>&1; true",
    )


def test_system_operations_converge_then_change_nothing(
    debian_hosts: DebianHostsInfo, tmp_path: Path
) -> None:
    hosts = debian_hosts
    before = inside(hosts, "sysctl -n net.ipv4.ip_forward")
    wanted = "0" if before == "1" else "1"
    _inventory(tmp_path, hosts, wanted)
    try:
        _converge(hosts, tmp_path, before, wanted)
        _modify(hosts, tmp_path)
        _clean(hosts, tmp_path, wanted)
    finally:
        _restore(hosts, before)


def _converge(hosts: DebianHostsInfo, tmp_path: Path, before: str, wanted: str) -> None:
    counts, _, err = apply(tmp_path, hosts, CONVERGE, "--check")
    assert counts == {"would_change": 9}, (counts, err)
    assert status(hosts, "hello") == "unknown"
    assert inside(hosts, "hostname") == HOST
    assert inside(hosts, "sysctl -n net.ipv4.ip_forward") == before
    assert hosts.run_on_host(HOST, f"getent passwd {USER}").returncode == 2
    assert MOUNT not in inside(hosts, "cat /proc/mounts")

    counts, _, err = apply(tmp_path, hosts, CONVERGE)
    assert counts == {"changed": 9}, (counts, err)
    assert status(hosts, "hello") == "install ok installed 2.10-3"
    assert status(hosts, "tree").startswith("install ok installed")
    assert "is running" in inside(hosts, "/etc/init.d/opsforge-testsvc status")
    assert inside(hosts, "ls /etc/rc2.d").count("S01opsforge-testsvc") == 1
    assert inside(hosts, f"getent passwd {USER}").endswith(":/bin/sh")
    assert USER in inside(hosts, f"getent group {GROUP}")
    assert inside(hosts, f"getent shadow {USER}").split(":")[1] == HASH
    keys = inside(hosts, f"cat /home/{USER}/.ssh/authorized_keys")
    assert keys == KEY
    assert inside(hosts, f"stat -c %U:%a /home/{USER}/.ssh") == f"{USER}:700"
    crontab = inside(hosts, "crontab -l -u root")
    assert f"{CRON_TAG}\n5 3 * * * /bin/true" in crontab
    assert inside(hosts, "cat /etc/sysctl.d/99-opsforge.conf") == f"net.ipv4.ip_forward={wanted}"
    assert inside(hosts, "sysctl -n net.ipv4.ip_forward") == wanted
    assert inside(hosts, "hostname") == "opsforge-sys1"
    assert inside(hosts, "cat /etc/hostname") == "opsforge-sys1"
    assert f"tmpfs {MOUNT} tmpfs" in inside(hosts, "cat /proc/mounts")
    assert f"tmpfs {MOUNT} tmpfs size=1m 0 0" in inside(hosts, "cat /etc/fstab")

    counts, _, err = apply(tmp_path, hosts, CONVERGE)
    assert counts == {"ok": 9}, (counts, err)
    assert inside(hosts, "crontab -l -u root").count(CRON_TAG) == 1


def _modify(hosts: DebianHostsInfo, tmp_path: Path) -> None:
    newest = hosts.repo_packages["hello"][-1]
    assert newest.endswith("+opsforge1")
    counts, _, err = apply(tmp_path, hosts, MODIFY, "--check")
    assert counts == {"would_change": 4}, (counts, err)
    assert status(hosts, "hello") == "install ok installed 2.10-3"
    counts, _, err = apply(tmp_path, hosts, MODIFY)
    assert counts == {"changed": 4}, (counts, err)
    assert status(hosts, "hello") == f"install ok installed {newest}"
    assert status(hosts, "tree") in ("unknown", "deinstall ok config-files")
    assert "is not running" in inside(hosts, "/etc/init.d/opsforge-testsvc status || true")
    assert "S01opsforge-testsvc" not in inside(hosts, "ls /etc/rc2.d")
    assert inside(hosts, f"getent passwd {USER}").endswith(":/bin/bash")
    assert USER not in inside(hosts, f"getent group {GROUP}").rsplit(":", 1)[1]
    counts, _, err = apply(tmp_path, hosts, MODIFY)
    assert counts == {"ok": 4}, (counts, err)

    pidfile = "/run/opsforge-testsvc.pid"
    counts, _, err = apply(tmp_path, hosts, RESTART)  # stopped: restarted starts it
    assert counts == {"changed": 1}, (counts, err)
    first = inside(hosts, f"cat {pidfile}")
    counts, _, err = apply(tmp_path, hosts, RESTART)  # restarted always acts
    assert counts == {"changed": 1}, (counts, err)
    assert inside(hosts, f"cat {pidfile}") != first
    assert "is running" in inside(hosts, "/etc/init.d/opsforge-testsvc status")


def _clean(hosts: DebianHostsInfo, tmp_path: Path, wanted: str) -> None:
    counts, _, err = apply(tmp_path, hosts, CLEAN)
    assert counts == {"changed": 7}, (counts, err)
    assert status(hosts, "hello") == "unknown"
    assert hosts.run_on_host(HOST, f"getent passwd {USER}").returncode == 2
    assert hosts.run_on_host(HOST, f"getent group {GROUP}").returncode == 2
    assert CRON_TAG not in hosts.run_on_host(HOST, "crontab -l -u root").stdout
    assert "ip_forward" not in hosts.run_on_host(HOST, "cat /etc/sysctl.d/99-opsforge.conf").stdout
    assert inside(hosts, "sysctl -n net.ipv4.ip_forward") == wanted  # the running value stays
    assert inside(hosts, "hostname") == HOST
    assert MOUNT not in inside(hosts, "cat /proc/mounts; cat /etc/fstab")
    counts, _, err = apply(tmp_path, hosts, CLEAN)
    assert counts == {"ok": 7}, (counts, err)


BECOME = f"""
from opsforge.deploy.operations import system, users


def deploy(host):
    users.user(host, "opsforge-bt", password="{HASH}", become=True)
    system.cron(host, "opsforge-bt-job", "/bin/true", minute="9", user="root", become=True)
"""
LOGIN = "opsforge-low"


def test_facts_that_need_root_are_read_with_the_operations_become(
    debian_hosts: DebianHostsInfo, tmp_path: Path
) -> None:
    """An unprivileged login with sudo: the shadow hash and root's crontab are read as root
    (the operations' become), so the second apply sees what the first one did."""
    import yaml

    hosts = debian_hosts
    hosts.run_on_host(
        HOST,
        f"useradd -m -s /bin/sh {LOGIN} && install -d -m 700 -o {LOGIN} /home/{LOGIN}/.ssh && "
        f"install -m 600 -o {LOGIN} /root/.ssh/authorized_keys /home/{LOGIN}/.ssh/ && "
        f"echo '{LOGIN} ALL=(ALL) NOPASSWD: ALL' >/etc/sudoers.d/{LOGIN}",
        check=True,
    )
    data = yaml.safe_load(hosts.inventory.read_text())
    data["all"]["hosts"][HOST]["ansible_user"] = LOGIN
    inventory = tmp_path / "low.yml"
    inventory.write_text(yaml.safe_dump(data, sort_keys=False))
    try:
        assert hosts.run_on_host(HOST, f"su {LOGIN} -c 'cat /etc/shadow'").returncode != 0
        counts, _, err = apply(tmp_path, hosts, BECOME, inventory=inventory)
        assert counts == {"changed": 2}, (counts, err)
        assert inside(hosts, "getent shadow opsforge-bt").split(":")[1] == HASH
        assert "#Ansible: opsforge-bt-job" in inside(hosts, "crontab -l -u root")
        counts, _, err = apply(tmp_path, hosts, BECOME, inventory=inventory)
        assert counts == {"ok": 2}, (counts, err)
    finally:
        hosts.run_on_host(
            HOST,
            f"userdel -r opsforge-bt; userdel -r {LOGIN}; rm -f /etc/sudoers.d/{LOGIN}; "
            "crontab -r -u root; true",
        )
