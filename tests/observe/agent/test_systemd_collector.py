"""The systemd collector's parsers, on the text ``systemctl`` prints (this machine runs no
systemd, so the collector itself is not enabled here: ``systemd_running`` says so)."""

from __future__ import annotations

from pathlib import Path

from opsforge.observe.agent import Agent, AgentConfig
from opsforge.observe.agent.collectors.systemd import (
    SystemdCollector,
    parse_list_units,
    parse_show,
    systemd_running,
)

LIST_UNITS = """\
  cron.service                 loaded    active   running Regular background program
● nginx.service                loaded    failed   failed  A high performance web server
  ssh.service                  loaded    active   running OpenBSD Secure Shell server
  tmp.mount                    loaded    active   mounted Temporary Directory /tmp
  user@0.service               loaded    activating start   User Manager for UID 0
"""

SHOW = """\
Id=cron.service
Type=simple
NRestarts=0

Id=nginx.service
Type=forking
NRestarts=7

Id=user@0.service
Type=notify
NRestarts=0
"""


def test_list_units_gives_active_states() -> None:
    assert parse_list_units(LIST_UNITS) == {
        "cron.service": "active",
        "nginx.service": "failed",
        "ssh.service": "active",
        "tmp.mount": "active",
        "user@0.service": "activating",
    }


def test_show_gives_type_and_restarts_by_unit() -> None:
    shown = parse_show(SHOW)
    assert shown["nginx.service"]["Type"] == "forking"
    assert shown["nginx.service"]["NRestarts"] == "7"
    assert set(shown) == {"cron.service", "nginx.service", "user@0.service"}


def test_systemd_detection(tmp_path: Path) -> None:
    assert not systemd_running(tmp_path)
    (tmp_path / "run/systemd/system").mkdir(parents=True)
    assert systemd_running(tmp_path)
    running_here = systemd_running()
    collectors = Agent(AgentConfig()).collectors
    assert ("systemd" in collectors) == running_here
    if running_here:
        families = {f.name: f for f in SystemdCollector()(None)}  # type: ignore[arg-type]
        assert families["node_systemd_unit_state"].samples
