"""ConnectionPool: one connect per host, shared by concurrent callers, failures cached."""

from __future__ import annotations

import asyncio

import pytest

from opsforge.connectors import ConnectionPool, available_connectors, connector_class
from opsforge.connectors.local import LocalConnector
from opsforge.connectors.ssh import SSHConnector
from opsforge.errors import UnreachableError, UsageError
from opsforge.testing import LabInfo
from opsforge.types import HostSpec

from .conftest import arun


def test_builtin_connectors_are_found() -> None:
    assert {"local", "ssh"} <= set(available_connectors())
    assert connector_class("ssh") is SSHConnector
    assert connector_class("local") is LocalConnector


def test_unknown_connector_lists_the_available_ones() -> None:
    with pytest.raises(UsageError, match=r"unknown connector 'telnet'; available: .*local.*ssh"):
        connector_class("telnet")


def test_concurrent_gets_share_one_connection(lab: LabInfo) -> None:
    log = lab.root / "hosts" / "lab20" / "sshd.log"
    before = log.read_text().count("Accepted publickey")

    async def main() -> None:
        async with ConnectionPool(lab.connect_options()) as pool:
            spec = lab.host_spec("lab20")
            conns = await asyncio.gather(*(pool.get(spec) for _ in range(10)))
            assert len({id(c) for c in conns}) == 1
            assert await pool.get(spec) is conns[0]
            assert (await conns[0].run("true")).ok

    arun(main())
    assert log.read_text().count("Accepted publickey") == before + 1


def test_a_failed_connect_is_remembered(lab: LabInfo) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    spec = HostSpec(name="gone", address="127.0.0.1", port=port)

    async def main() -> None:
        async with ConnectionPool(lab.connect_options()) as pool:
            with pytest.raises(UnreachableError) as first:
                await pool.get(spec)
            # a server appearing later does not matter: the host failed for this run
            with socket.socket() as listener:
                listener.bind(("127.0.0.1", port))
                listener.listen()
                with pytest.raises(UnreachableError) as second:
                    await pool.get(spec)
            assert second.value is first.value
            assert set(pool.failed()) == {"gone"}

    arun(main())


def test_local_connector_through_the_pool() -> None:
    async def main() -> str:
        async with ConnectionPool() as pool:
            conn = await pool.get(HostSpec(name="@local", connector="local"))
            return (await conn.run("echo here")).stdout

    assert arun(main()) == "here\n"
