"""``opsforge agent install`` on real Debian 12 hosts (no systemd: the init-script
fallback): packages from the hosts' repository, the service running as its own user and
answering scrapes, a second run changing nothing, a config change restarting it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from observe.servers import http_get, opsforge_argv
from opsforge.testing import DebianHostsInfo

pytestmark = [pytest.mark.root, pytest.mark.slow]

PORT = 9101


def install(hosts: DebianHostsInfo, tmp: Path, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(tmp / "state"), NO_COLOR="1")
    done = subprocess.run(
        opsforge_argv(
            "agent", "install", "all", "-i", str(hosts.inventory), "-o", "json",
            "--listen", f"0.0.0.0:{PORT}", *args,
        ),
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return done.returncode, events, done.stderr


def _failures(events: list[dict[str, Any]]) -> list[Any]:
    return [
        (e.get("host"), e.get("name"), e.get("output") or e.get("message") or e.get("reason"))
        for e in events
        if e.get("status") in ("failed", "unreachable", "auth_failed")
    ]


def _statuses(events: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for event in events:
        if event.get("kind") == "operation":
            counts[event["status"]] = counts.get(event["status"], 0) + 1
    return counts


def scrape(address: str, timeout: float = 60) -> dict[str, list[Any]]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with http_get(f"http://{address}:{PORT}/metrics", timeout=5) as response:
                text = response.read().decode()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    found: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


def test_install_runs_the_agent_and_a_second_run_changes_nothing(
    agent_debian_hosts: DebianHostsInfo, tmp_path: Path
) -> None:
    hosts = agent_debian_hosts
    code, events, stderr = install(hosts, tmp_path)
    assert code == 0, _failures(events) or stderr
    assert _statuses(events).get("changed", 0) > 0
    assert _statuses(events).get("failed", 0) == 0
    for host in hosts.hosts:
        metrics = scrape(host.address)
        uname = metrics["node_uname_info"][0].labels
        assert uname["nodename"] == host.name
        assert {s.labels["collector"] for s in metrics["opsforge_agent_collector_success"]} >= {
            "cpu", "meminfo", "filesystem", "netdev", "stat", "loadavg", "uname",
        }  # fmt: skip
        assert metrics["node_memory_MemTotal_bytes"][0].value > 0
        user = hosts.run_on_host(
            host.name, "ps -o user= -p $(cat /run/opsforge-agent.pid)", check=True
        ).stdout.strip()
        assert user == "opsforge-agent"
        links = hosts.run_on_host(host.name, "ls /etc/rc2.d").stdout
        assert re.search(r"^S\d\dopsforge-agent$", links, re.M), links  # enabled at boot

    code, events, stderr = install(hosts, tmp_path)
    assert code == 0, _failures(events) or stderr
    statuses = _statuses(events)
    assert statuses.get("changed", 0) == 0, statuses
    assert statuses.get("ok", 0) >= 8


def test_a_config_change_restarts_the_agent(
    agent_debian_hosts: DebianHostsInfo, tmp_path: Path
) -> None:
    hosts = agent_debian_hosts
    config = tmp_path / "agent.yml"
    config.write_text("collectors: {enable: [uname, meminfo, time]}\n")
    # --check: says what would change, changes nothing
    code, events, stderr = install(hosts, tmp_path, "--agent-config", str(config), "--check")
    assert code == 0, _failures(events) or stderr
    would = {e["name"] for e in events if e.get("status") == "would_change"}
    assert any("agent.yml" in name for name in would), would
    assert "opsforge_agent_collector_success" in scrape(hosts.hosts[0].address)
    assert "{}" in hosts.run_on_host(hosts.hosts[0].name, "cat /etc/opsforge/agent.yml").stdout
    code, events, stderr = install(hosts, tmp_path, "--agent-config", str(config))
    assert code == 0, _failures(events) or stderr
    changed = {
        e["name"] for e in events if e.get("kind") == "operation" and e["status"] == "changed"
    }
    assert any("agent.yml" in name for name in changed), changed
    assert any("restart" in name or "service" in name for name in changed), changed
    metrics = scrape(hosts.hosts[0].address)
    collectors = {s.labels["collector"] for s in metrics["opsforge_agent_collector_success"]}
    assert collectors == {"uname", "meminfo", "time"}


def test_a_bad_agent_config_stops_before_any_host_is_touched(
    agent_debian_hosts: DebianHostsInfo, tmp_path: Path
) -> None:
    config = tmp_path / "agent.yml"
    config.write_text("collectors:\n  enable: [gpu]\n")
    code, events, stderr = install(agent_debian_hosts, tmp_path, "--agent-config", str(config))
    assert code == 2
    assert f"{config}:2: " in stderr
    assert not events


def test_install_under_systemd_runs_a_unit_and_the_systemd_collector_sees_it(
    agent_systemd_host: DebianHostsInfo, tmp_path: Path
) -> None:
    hosts = agent_systemd_host
    host = hosts.hosts[0]
    code, events, stderr = install(hosts, tmp_path)
    assert code == 0, _failures(events) or stderr
    assert _statuses(events).get("changed", 0) > 0
    state = hosts.run_on_host(
        host.name, "systemctl is-active opsforge-agent; systemctl is-enabled opsforge-agent"
    ).stdout.split()
    assert state == ["active", "enabled"]
    user = hosts.run_on_host(
        host.name, "ps -o user= -p $(systemctl show -p MainPID --value opsforge-agent)"
    ).stdout.strip()
    assert user == "opsforge-agent"
    metrics = scrape(host.address)
    assert metrics["node_uname_info"][0].labels["nodename"] == host.name
    units = {
        s.labels["name"]: s.labels["state"]
        for s in metrics.get("node_systemd_unit_state", [])
        if s.value == 1
    }
    assert units.get("opsforge-agent.service") == "active", sorted(units)[:20]
    code, events, stderr = install(hosts, tmp_path)
    assert code == 0, _failures(events) or stderr
    assert _statuses(events).get("changed", 0) == 0, _statuses(events)
