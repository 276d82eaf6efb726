"""Services under a real systemd: a Debian 12 host that boots systemd (``systemd_host``,
systemd-nspawn in its own network namespace) driven by ``opsforge apply`` over SSH, with
Python deploys and a playbook. Every deploy converges on the first apply and changes
nothing on the second; ``--check`` changes nothing; a handler restarts the unit only when
its file changed. The state is read from inside the host with ``systemctl``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opsforge.testing import DebianHostsInfo

from .debian_apply import apply_cli

pytestmark = [pytest.mark.root, pytest.mark.slow]

HOST = "sd1"
UNIT = "opsforge-web"
STARTS = f"/run/{UNIT}.starts"


def unit_text(version: int) -> str:
    # every start appends a line to STARTS: how many times systemd (re)started it
    return (
        "[Unit]\nDescription=opsforge web test unit\n\n[Service]\n"
        f"Environment=VERSION={version}\n"
        f"ExecStart=/bin/sh -c 'echo $VERSION >> {STARTS}; exec sleep infinity'\n"
        "ExecReload=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n"
    )


def converge(version: int) -> str:
    return f"""
from opsforge.deploy.operations import files, services

def deploy(host):
    files.copy(host, dest="/etc/systemd/system/{UNIT}.service", content={unit_text(version)!r},
               mode="0644", notify="restart web")
    services.systemd(host, "{UNIT}", state="started", enabled=True, daemon_reload=True)
    services.service(host, "opsforge-testsvc", state="started", enabled=True)

    @host.handler("restart web")
    def _(h):
        services.systemd(h, "{UNIT}", state="restarted")
"""


STOP = f"""
from opsforge.deploy.operations import services

def deploy(host):
    services.systemd(host, "{UNIT}", state="stopped", enabled=False)
    services.service(host, "opsforge-testsvc", state="stopped", enabled=False)
"""

# a unit of a package (in /lib/systemd/system): one in /etc/systemd/system cannot be masked
MASK = """
from opsforge.deploy.operations import services

def deploy(host):
    services.systemd(host, "cron", masked=True)
"""

UNMASK_RELOAD = f"""
from opsforge.deploy.operations import services

def deploy(host):
    services.systemd(host, "cron", masked=False)
    services.systemd(host, "{UNIT}", state="reloaded")
"""

PLAYBOOK = f"""
- hosts: {HOST}
  vars:
    unit: %s
  tasks:
    - assert:
        that:
          - ansible_service_mgr == 'systemd'
          - ansible_facts.service_mgr == 'systemd'
    - name: the unit file
      copy:
        dest: /etc/systemd/system/{UNIT}.service
        content: "{{{{ unit }}}}"
        mode: "0644"
      notify: restart web
    - ansible.builtin.systemd:
        name: {UNIT}
        state: started
        enabled: true
        daemon_reload: true
  handlers:
    - name: restart web
      ansible.builtin.systemd_service:
        name: {UNIT}
        state: restarted
"""


def inside(hosts: DebianHostsInfo, command: str) -> str:
    return hosts.run_on_host(HOST, command).stdout.strip()


def unit_state(hosts: DebianHostsInfo, unit: str = UNIT) -> tuple[str, str]:
    return inside(hosts, f"systemctl is-active {unit}"), inside(
        hosts, f"systemctl is-enabled {unit}"
    )


def starts(hosts: DebianHostsInfo) -> list[str]:
    return inside(hosts, f"cat {STARTS} 2>/dev/null").split()


def _clean(hosts: DebianHostsInfo) -> None:
    hosts.run_on_host(
        HOST,
        f"systemctl unmask cron; systemctl disable --now {UNIT} opsforge-testsvc; "
        f"rm -f /etc/systemd/system/{UNIT}.service {STARTS}; systemctl daemon-reload; true",
    )


def test_systemd_units_converge_handlers_run_only_on_change(
    systemd_host: DebianHostsInfo, tmp_path: Path
) -> None:
    hosts, inv = systemd_host, systemd_host.inventory
    _clean(hosts)
    try:
        counts, _, _ = apply_cli(tmp_path, HOST, converge(1), "--check", inventory=inv)
        assert counts == {"would_change": 4}, counts  # incl. the notified handler
        assert inside(hosts, f"test -e /etc/systemd/system/{UNIT}.service || echo none") == "none"
        assert unit_state(hosts, "opsforge-testsvc") == ("inactive", "disabled")

        counts, _, _ = apply_cli(tmp_path, HOST, converge(1), inventory=inv)
        # the file, start+enable of each unit, and the handler's restart
        assert counts["changed"] == 4, counts
        assert unit_state(hosts) == ("active", "enabled")
        assert unit_state(hosts, "opsforge-testsvc") == ("active", "enabled")
        assert starts(hosts) == ["1", "1"]  # started, then restarted by the handler once

        counts, _, _ = apply_cli(tmp_path, HOST, converge(1), inventory=inv)
        assert counts["changed"] == 0, counts
        assert starts(hosts) == ["1", "1"]  # no change: the handler did not run

        counts, _, _ = apply_cli(tmp_path, HOST, converge(2), inventory=inv)
        assert counts["changed"] == 2, counts  # the file and the handler
        # daemon-reload ran before the restart: the new unit's environment is in effect
        assert starts(hosts) == ["1", "1", "2"]

        counts, _, _ = apply_cli(tmp_path, HOST, STOP, inventory=inv)
        assert counts["changed"] == 2, counts
        assert unit_state(hosts) == ("inactive", "disabled")
        assert unit_state(hosts, "opsforge-testsvc") == ("inactive", "disabled")
        assert apply_cli(tmp_path, HOST, STOP, inventory=inv)[0]["changed"] == 0

        counts, _, _ = apply_cli(tmp_path, HOST, MASK, inventory=inv)
        assert counts["changed"] == 1, counts
        assert unit_state(hosts, "cron")[1] == "masked"
        assert apply_cli(tmp_path, HOST, MASK, inventory=inv)[0]["changed"] == 0

        counts, _, _ = apply_cli(tmp_path, HOST, UNMASK_RELOAD, inventory=inv)
        assert counts["changed"] == 2, counts  # unmasked; reload of a stopped unit starts it
        assert unit_state(hosts, "cron")[1] == "enabled"
        assert unit_state(hosts) == ("active", "disabled")
        counts, _, _ = apply_cli(tmp_path, HOST, UNMASK_RELOAD, inventory=inv)
        assert counts["changed"] == 1, counts  # reloaded always acts
        assert starts(hosts) == ["1", "1", "2", "2"]
    finally:
        _clean(hosts)


def test_playbook_systemd_modules_and_service_manager_fact(
    systemd_host: DebianHostsInfo, tmp_path: Path
) -> None:
    hosts = systemd_host
    _clean(hosts)
    try:
        for version, changed in ((1, 3), (1, 0), (2, 2)):
            playbook = PLAYBOOK % json.dumps(unit_text(version))  # JSON is YAML
            counts, _, _ = apply_cli(
                tmp_path, HOST, playbook, inventory=hosts.inventory, name="site.yml"
            )
            assert counts["changed"] == changed, (version, counts)
        assert unit_state(hosts) == ("active", "enabled")
        assert starts(hosts) == ["1", "1", "2"]
    finally:
        _clean(hosts)
