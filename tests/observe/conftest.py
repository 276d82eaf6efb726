"""Fixtures for the observe tests (agent, alerts, dashboards): real servers on loopback."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from observe.servers import ServerProcess, free_port, need_binary, opsforge_argv
from opsforge.observe.agent import CORE_COLLECTORS
from opsforge.testing import (
    DebianCacheError,
    DebianHosts,
    DebianHostsInfo,
    debian_hosts_unavailable,
    ensure_cache,
)
from opsforge.testing.debian_cache import DEFAULT_REPO_PACKAGES

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
def pushgateway(tmp_path: Path) -> Iterator[str]:
    """The Debian Pushgateway on a free loopback port; yields its base URL."""
    binary = need_binary("prometheus-pushgateway")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # its own persistence file: the Debian default is /var/lib/prometheus/pushgateway.data
    argv = [
        binary,
        f"--web.listen-address=127.0.0.1:{port}",
        f"--persistence.file={tmp_path / 'pushgateway.data'}",
    ]
    server = ServerProcess(argv, tmp_path / "pushgateway.log", f"{base}/-/ready").wait_ready()
    yield base
    server.stop()


#: the agent's runtime packages, offered by the Debian test hosts' local repository
AGENT_REPO_PACKAGES = ("python3-psutil", "python3-yaml", "python3-click", "python3-rich")


@pytest.fixture(scope="session")
def agent_debian_hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DebianHostsInfo]:
    """Two Debian test hosts whose local repository also offers the agent's runtime
    packages (a cache of its own, built once), for ``opsforge agent install``."""
    if reason := debian_hosts_unavailable():
        pytest.skip(reason)
    try:
        cache = ensure_cache(repo_packages=(*DEFAULT_REPO_PACKAGES, *AGENT_REPO_PACKAGES))
    except DebianCacheError as exc:
        pytest.skip(f"Debian test hosts: {exc}")
    with DebianHosts(tmp_path_factory.mktemp("agent-debian"), 2, cache=cache, prefix="agt") as info:
        yield info


@pytest.fixture(scope="session")
def agent_systemd_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DebianHostsInfo]:
    """One Debian test host that boots systemd (systemd-nspawn), its repository offering
    the agent's runtime packages: ``opsforge agent install``'s systemd unit path."""
    if reason := debian_hosts_unavailable():
        pytest.skip(reason)
    if shutil.which("systemd-nspawn") is None:
        pytest.skip("systemd-nspawn not installed (apt-get install systemd-container)")
    try:
        cache = ensure_cache(repo_packages=(*DEFAULT_REPO_PACKAGES, *AGENT_REPO_PACKAGES))
    except DebianCacheError as exc:
        pytest.skip(f"Debian test hosts: {exc}")
    root = tmp_path_factory.mktemp("agent-systemd")
    with DebianHosts(root, 1, cache=cache, prefix="agsd", init="systemd") as info:
        yield info
