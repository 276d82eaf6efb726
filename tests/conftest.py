"""Fixtures shared by every test package: the session-wide SSH lab."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from opsforge.testing import LabInfo, SSHLab

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
