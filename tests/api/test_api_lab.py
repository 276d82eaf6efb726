"""The Fabric-style Python API against real sshd hosts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import opsforge
from opsforge.testing import LabInfo


def _connect(lab: LabInfo, name: str = "lab1") -> opsforge.Connection:
    host = lab.host(name)
    return opsforge.connect(
        f"{lab.user}@127.0.0.1:{host.port}", key=lab.key, known_hosts=str(lab.known_hosts)
    )


def test_run_returns_result(lab: LabInfo) -> None:
    with _connect(lab) as conn:
        result = conn.run("echo hello; echo oops >&2")
    assert result.ok
    assert result.exit_code == 0
    assert result.stdout == "hello\n"
    assert result.stderr == "oops\n"
    assert result.duration > 0


def test_failed_command_raises_with_result_unless_check_false(lab: LabInfo) -> None:
    with _connect(lab) as conn:
        with pytest.raises(opsforge.CommandFailed) as info:
            conn.run("echo partial; exit 3")
        assert info.value.result.exit_code == 3
        assert info.value.result.stdout == "partial\n"
        result = conn.run("exit 4", check=False)
        assert result.exit_code == 4
        assert not result.ok


def test_timeout_raises_command_timeout(lab: LabInfo) -> None:
    with _connect(lab) as conn, pytest.raises(opsforge.CommandTimeout) as info:
        conn.run("echo started; sleep 30", timeout=0.5)
    assert info.value.result.timed_out
    assert "started" in info.value.result.stdout


def test_put_get_bytes_and_files(lab: LabInfo, tmp_path: Path) -> None:
    remote = str(tmp_path / "remote.txt")
    with _connect(lab) as conn:
        conn.put(b"\x00binary\xff", remote, mode=0o640)
        assert conn.get(remote) == b"\x00binary\xff"
        conn.get(remote, tmp_path / "local.txt")
    assert (tmp_path / "local.txt").read_bytes() == b"\x00binary\xff"
    assert (tmp_path / "remote.txt").stat().st_mode & 0o777 == 0o640


def test_connection_is_reused(lab: LabInfo) -> None:
    with _connect(lab) as conn:
        ports = {conn.run("echo $SSH_CONNECTION | cut -d' ' -f2").stdout for _ in range(5)}
    assert len(ports) == 1  # the same client port: one TCP connection for every command


def test_unreachable_raises_connect_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    conn = opsforge.connect(f"nobody@127.0.0.1:{port}", connect_timeout=3)
    with pytest.raises(opsforge.UnreachableError):
        conn.run("true")


def test_async_twin(lab: LabInfo) -> None:
    async def main() -> list[str]:
        spec = lab.host_spec("lab2")
        async with opsforge.AsyncConnection(spec, lab.connect_options()) as conn:
            results = await asyncio.gather(*(conn.run(f"echo {i}") for i in range(10)))
        return [r.stdout.strip() for r in results]

    assert asyncio.run(main()) == [str(i) for i in range(10)]


def test_group_from_inventory(lab: LabInfo) -> None:
    with opsforge.Group.from_inventory(str(lab.inventory), "even") as group:
        results = group.run("echo $SSH_CONNECTION | cut -d' ' -f4")
    assert results.ok
    assert list(results) == [f"lab{i}" for i in range(2, 21, 2)]
    for host, outcome in results.items():
        assert outcome.result is not None
        assert outcome.result.stdout.strip() == str(lab.host(host).port)


def test_group_failure_raises_group_error_with_every_host(lab: LabInfo) -> None:
    with opsforge.Group.from_inventory(str(lab.inventory), "lab1:lab2") as group:
        with pytest.raises(opsforge.GroupError) as info:
            group.run('[ "$(echo $SSH_CONNECTION | cut -d" " -f4)" = 0 ]')
        assert set(info.value.result) == {"lab1", "lab2"}
        relaxed = group.run("false", check=False)
    assert not relaxed.ok
    assert set(relaxed.failed) == {"lab1", "lab2"}
