"""The system modules of a playbook (apt, package, service, systemd, user, group, getent,
authorized_key, cron, sysctl, hostname, mount) against a real Debian 12 host: the first
apply converges, the second reports 0 changed."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import pytest

from deploy.debian_apply import apply_cli
from opsforge.testing import DebianHostsInfo

pytestmark = [pytest.mark.root, pytest.mark.slow]

HOST = "deb2"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOpsforgePlaybookKeyXXXXXXXXXXXXXXXXXXXXXXXX pb@ci"

PLAYBOOK = f"""
- hosts: {HOST}
  gather_facts: false
  tasks:
    - name: packages from the local repository
      ansible.builtin.apt:
        name: [hello, tree]
        update_cache: true
        cache_valid_time: 3600
    - package: name=jq state=present
    - service: name=opsforge-testsvc state=started enabled=yes
    - ansible.builtin.systemd_service:
        name: opsforge-testsvc
        state: started
    - group: name=opsforge-pbg system=yes
    - user:
        name: opsforge-pb
        shell: /bin/sh
        groups: opsforge-pbg
        password: "$6$pbsalt$xyz"
    - ansible.posix.authorized_key:
        user: opsforge-pb
        key: "{KEY}"
    - getent: database=passwd key=opsforge-pb
    - assert:
        that: getent_passwd['opsforge-pb'][5] == '/bin/sh'
    - cron: name=pb-job job=/bin/true minute=7 user=root
    - ansible.posix.sysctl: name=net.ipv4.tcp_syncookies value=0
    - hostname: name=opsforge-pb2
    - ansible.posix.mount:
        path: /mnt/opsforge-pb
        src: tmpfs
        fstype: tmpfs
        opts: size=2m
        state: mounted
"""

CLEANUP = f"""
- hosts: {HOST}
  gather_facts: false
  tasks:
    - apt: name=hello,tree,jq state=absent purge=yes
    - service: name=opsforge-testsvc state=stopped enabled=no
    - user: name=opsforge-pb state=absent remove=yes
    - group: name=opsforge-pbg state=absent
    - cron: name=pb-job user=root state=absent
    - sysctl: name=net.ipv4.tcp_syncookies state=absent
    - hostname: name={HOST}
    - mount: path=/mnt/opsforge-pb state=absent
"""


def play(tmp_path: Path, hosts: DebianHostsInfo, text: str) -> Counter[str]:
    source = textwrap.dedent(text).lstrip()
    return apply_cli(tmp_path, HOST, source, inventory=hosts.inventory, name="site.yml")[0]


def inside(hosts: DebianHostsInfo, command: str) -> str:
    return hosts.run_on_host(HOST, command, check=True).stdout.strip()


def test_system_modules_converge_then_change_nothing(
    debian_hosts: DebianHostsInfo, tmp_path: Path
) -> None:
    hosts = debian_hosts
    syncookies = inside(hosts, "sysctl -n net.ipv4.tcp_syncookies")
    try:
        counts = play(tmp_path, hosts, PLAYBOOK)
        assert counts["changed"] == 10, counts
        assert "ok" in inside(hosts, "dpkg-query -W -f '${Status}' hello tree jq")
        assert "is running" in inside(hosts, "/etc/init.d/opsforge-testsvc status")
        assert inside(hosts, "getent shadow opsforge-pb").split(":")[1] == "$6$pbsalt$xyz"
        assert "opsforge-pb" in inside(hosts, "getent group opsforge-pbg")
        assert inside(hosts, "cat /home/opsforge-pb/.ssh/authorized_keys") == KEY
        assert "#Ansible: pb-job\n7 * * * * /bin/true" in inside(hosts, "crontab -l -u root")
        assert inside(hosts, "sysctl -n net.ipv4.tcp_syncookies") == "0"
        assert inside(hosts, "hostname") == "opsforge-pb2"
        assert "/mnt/opsforge-pb tmpfs" in inside(hosts, "cat /proc/mounts")
        counts = play(tmp_path, hosts, PLAYBOOK)
        assert counts["changed"] == 0, counts
        counts = play(tmp_path, hosts, CLEANUP)
        assert counts["changed"] == 8, counts
        assert play(tmp_path, hosts, CLEANUP)["changed"] == 0
        assert inside(hosts, "hostname") == HOST
    finally:
        hosts.run_on_host(
            HOST,
            "umount /mnt/opsforge-pb 2>/dev/null; sed -i '\\#opsforge-pb#d' /etc/fstab; "
            "userdel -r opsforge-pb 2>/dev/null; groupdel opsforge-pbg 2>/dev/null; "
            "crontab -r -u root 2>/dev/null; rm -f /etc/sysctl.d/99-opsforge.conf; "
            f"sysctl -q -w net.ipv4.tcp_syncookies={syncookies}; hostname {HOST}; "
            f"echo {HOST} >/etc/hostname; /etc/init.d/opsforge-testsvc stop; "
            "update-rc.d opsforge-testsvc disable; apt-get purge -y -q hello tree jq; true",
        )
