"""Fixtures for the observe tests (agent, alerts, dashboards): real servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from observe.servers import ServerProcess, free_port, need_binary, opsforge_argv
from opsforge.observe.agent import CORE_COLLECTORS

#: node_exporter restricted to the collectors the agent implements (the comparison set;
#: no systemd here, no textfile directory given to either)
NODE_EXPORTER_COLLECTORS = tuple(c for c in CORE_COLLECTORS if c not in ("systemd", "textfile"))


@pytest.fixture(scope="session")
def node_exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Debian node_exporter with the core collectors; yields its /metrics URL."""
    binary = need_binary("prometheus-node-exporter")
    port = free_port()
    tmp = tmp_path_factory.mktemp("node_exporter")
    argv = [
        binary,
        f"--web.listen-address=127.0.0.1:{port}",
        "--collector.disable-defaults",
        *(f"--collector.{name}" for name in NODE_EXPORTER_COLLECTORS),
    ]
    url = f"http://127.0.0.1:{port}/metrics"
    server = ServerProcess(argv, tmp / "log", url).wait_ready()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def agent_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``opsforge agent serve`` as a real process; yields its /metrics URL."""
    port = free_port()
    tmp = tmp_path_factory.mktemp("agent")
    url = f"http://127.0.0.1:{port}/metrics"
    argv = opsforge_argv("agent", "serve", "--listen", f"127.0.0.1:{port}")
    server = ServerProcess(argv, tmp / "log", url).wait_ready()
    yield url
    server.stop()


@pytest.fixture
def tmp_config(tmp_path: Path) -> Path:
    return tmp_path / "agent.yml"
