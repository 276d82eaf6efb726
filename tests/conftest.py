"""Fixtures shared by every test package: the session-wide SSH lab and Debian test hosts."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from opsforge.testing import (
    DebianCache,
    DebianCacheError,
    DebianHosts,
    DebianHostsInfo,
    LabInfo,
    SSHLab,
    debian_hosts_unavailable,
    ensure_cache,
)

LAB_HOSTS = 20


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the lab are marked ``lab`` (select or deselect them with ``-m``)."""
    for item in items:
        if "lab" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.lab)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabInfo]:
    """A running lab of 20 real sshd hosts on 127.0.0.1 (lab1..lab20), stopped at the end."""
    if shutil.which("sshd") is None and shutil.which("sshd", path="/usr/sbin") is None:
        pytest.skip("sshd not installed (apt-get install openssh-server)")
    with SSHLab(tmp_path_factory.mktemp("sshlab"), LAB_HOSTS) as info:
        yield info


@pytest.fixture(scope="session")
def debian_cache() -> DebianCache:
    """The cached Debian 12 rootfs + local apt repository (built once, ~1 minute, then
    reused across runs); skips with the reason when this machine cannot build it."""
    if reason := debian_hosts_unavailable():
        pytest.skip(reason)
    try:
        return ensure_cache()
    except DebianCacheError as exc:
        pytest.skip(f"Debian test hosts: {exc}")


@pytest.fixture(scope="session")
def debian_hosts(
    debian_cache: DebianCache, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DebianHostsInfo]:
    """Two running Debian test hosts (deb1, deb2: own sshd, address, namespaces), stopped at
    the end. Tests that change a host put it back (hostname, users, packages, services)."""
    with DebianHosts(tmp_path_factory.mktemp("debian"), 2, cache=debian_cache) as info:
        yield info


@pytest.fixture(scope="session")
def systemd_host(
    debian_cache: DebianCache, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DebianHostsInfo]:
    """One Debian test host (sd1) that boots systemd under systemd-nspawn, in its own network
    namespace with its own address and sshd (ssh.service). Tests put back what they change."""
    if shutil.which("systemd-nspawn") is None:
        pytest.skip("systemd-nspawn not installed (apt-get install systemd-container)")
    with DebianHosts(
        tmp_path_factory.mktemp("systemd"), 1, cache=debian_cache, prefix="sd", init="systemd"
    ) as info:
        yield info
