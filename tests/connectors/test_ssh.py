"""SSHConnector against real sshd processes of the lab: run, fan-out, timeouts, streaming."""

from __future__ import annotations

import asyncio
import socket
import time
import tracemalloc
from dataclasses import replace

import pytest

from opsforge.connectors import ConnectionPool
from opsforge.connectors.ssh import SSHConnector
from opsforge.errors import CommandTimeout, UnreachableError
from opsforge.testing import LabInfo, wait_gone
from opsforge.types import HostSpec

from .conftest import arun, assert_cancel_kills, sleeper


def server_port(stdout: str) -> int:
    """The server port from ``$SSH_CONNECTION`` (client-ip client-port server-ip server-port)."""
    return int(stdout.split()[3])


def test_run_on_every_lab_host_in_parallel(lab: LabInfo) -> None:
    async def main() -> dict[str, int]:
        async with ConnectionPool(lab.connect_options()) as pool:

            async def one(spec: HostSpec) -> tuple[str, int]:
                conn = await pool.get(spec)
                result = await conn.run('echo "$SSH_CONNECTION"')
                assert result.ok, result
                return spec.name, server_port(result.stdout)

            return dict(await asyncio.gather(*(one(s) for s in lab.host_specs())))

    seen = arun(main())
    assert seen == {h.name: h.port for h in lab.hosts}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_host_fails_alone(lab: LabInfo) -> None:
    dead = HostSpec(name="dead", address="127.0.0.1", port=closed_port(), user=lab.user)

    async def main() -> list[object]:
        async with ConnectionPool(lab.connect_options()) as pool:

            async def one(spec: HostSpec) -> object:
                conn = await pool.get(spec)
                return (await conn.run("echo ok")).stdout

            specs = [lab.host_spec("lab1"), dead, lab.host_spec("lab2")]
            return await asyncio.gather(*(one(s) for s in specs), return_exceptions=True)

    first, error, last = arun(main())
    assert first == last == "ok\n"
    assert isinstance(error, UnreachableError)
    assert "refused" in str(error)
    assert error.host == "dead"


def test_unresolvable_name_is_unreachable(lab: LabInfo) -> None:
    spec = HostSpec(name="nowhere", address="no-such-host.invalid", port=22)
    with pytest.raises(UnreachableError):
        arun(SSHConnector(spec, lab.connect_options(connect_timeout=5)).connect())


def test_true_over_open_connection_is_fast(lab: LabInfo) -> None:
    async def main() -> float:
        async with SSHConnector(lab.host_spec("lab1"), lab.connect_options()) as conn:
            await conn.run("true")
            began = time.perf_counter()
            for _ in range(20):
                assert (await conn.run("true")).ok
            return (time.perf_counter() - began) / 20 * 1000

    ms = arun(main())
    print(f"one `true` over an open connection: {ms:.2f} ms")
    assert ms < 100


def test_concurrent_runs_share_one_connection(lab: LabInfo) -> None:
    async def main() -> list[str]:
        async with SSHConnector(lab.host_spec("lab3"), lab.connect_options()) as conn:
            results = await asyncio.gather(*(conn.run(f"sleep 0.2; echo {i}") for i in range(30)))
            return [r.stdout.strip() for r in results]

    began = time.monotonic()
    assert arun(main()) == [str(i) for i in range(30)]
    assert time.monotonic() - began < 5  # in parallel, not 30 x 0.2 s in a row


def test_result_env_cwd_stdin_exit_code(lab: LabInfo) -> None:
    async def main() -> None:
        async with SSHConnector(lab.host_spec("lab4"), lab.connect_options()) as conn:
            result = await conn.run(
                'echo "$GREETING"; pwd; cat; echo oops >&2; exit 3',
                env={"GREETING": "hello 'world'"},
                cwd="/tmp",
                stdin=b"from stdin\n",
            )
            assert result.exit_code == 3
            assert result.stdout == "hello 'world'\n/tmp\nfrom stdin\n"
            assert result.stderr == "oops\n"  # no wrapper markers
            assert result.host == "lab4"
            missing = await conn.run("pwd", cwd="/does/not/exist")
            assert missing.exit_code == 126
            assert "cannot change directory" in missing.stderr

    arun(main())


def test_output_is_decoded_across_chunk_boundaries(lab: LabInfo) -> None:
    text = "é€😀" * 50_000  # ~450 kB of multi-byte characters, split across many chunks
    chunks: list[str] = []

    async def main() -> str:
        async with SSHConnector(lab.host_spec("lab5"), lab.connect_options()) as conn:
            result = await conn.run("cat", stdin=text, on_stdout=chunks.append)
            return result.stdout

    assert arun(main()) == text
    assert "".join(chunks) == text
    assert len(chunks) > 1


def test_timeout_kills_the_remote_process_group(lab: LabInfo) -> None:
    command, patterns = sleeper()

    async def main() -> CommandTimeout:
        async with SSHConnector(lab.host_spec("lab6"), lab.connect_options()) as conn:
            with pytest.raises(CommandTimeout) as caught:
                await conn.run(f"echo started; {command}", timeout=1)
            assert (await conn.run("echo still usable")).ok
            return caught.value

    began = time.monotonic()
    error = arun(main())
    assert time.monotonic() - began < 5
    assert error.result.timed_out
    assert error.result.exit_code is None
    assert error.result.stdout == "started\n"
    for pattern in patterns:
        assert wait_gone(pattern) == [], pattern


def test_cancel_kills_the_remote_process_group(lab: LabInfo) -> None:
    async def run(command: str) -> object:
        async with SSHConnector(lab.host_spec("lab7"), lab.connect_options()) as conn:
            return await conn.run(command)

    assert_cancel_kills(run, settle=0.5)


@pytest.mark.slow
def test_50_mb_streamed_with_bounded_memory(lab: LabInfo) -> None:
    size = 50 * 1024 * 1024
    counted = 0

    def count(chunk: str) -> None:
        nonlocal counted
        counted += len(chunk)

    async def main() -> str:
        async with SSHConnector(lab.host_spec("lab8"), lab.connect_options()) as conn:
            tracemalloc.start()
            try:
                result = await conn.run(
                    f"head -c {size} /dev/zero | tr '\\0' x", on_stdout=count, capture=False
                )
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            print(f"50 MB streamed: peak traced Python memory {peak / 1e6:.1f} MB")
            assert peak < 20 * 1024 * 1024
            assert result.ok
            return result.stdout

    assert arun(main()) == ""
    assert counted == size


def test_jump_host(lab: LabInfo) -> None:
    jump = lab.host("lab1")
    log = lab.root / "hosts" / "lab1" / "sshd.log"
    accepted_before = log.read_text().count("Accepted publickey")
    spec = lab.host_spec("lab2", proxy_jump=f"{lab.user}@127.0.0.1:{jump.port}")

    async def main() -> str:
        async with SSHConnector(spec, lab.connect_options()) as conn:
            return (await conn.run('echo "$SSH_CONNECTION"')).stdout

    assert server_port(arun(main())) == lab.host("lab2").port
    assert log.read_text().count("Accepted publickey") == accepted_before + 1


def test_ssh_config_resolves_name_and_proxy_jump(lab: LabInfo, tmp_path: object) -> None:
    config = lab.ssh_config_path.read_text()
    lab9 = lab.host("lab9")
    config += (
        f"\nHost via-lab1\n    HostName 127.0.0.1\n    Port {lab9.port}\n    User {lab.user}\n"
        f"    IdentityFile {lab.key_path}\n    ProxyJump lab1\n"
    )
    path = lab.root / "ssh_config.jump-test"
    path.write_text(config)
    options = replace(lab.connect_options(), ssh_config=str(path))

    async def main(name: str) -> int:
        async with SSHConnector(HostSpec(name=name), options) as conn:
            return server_port((await conn.run('echo "$SSH_CONNECTION"')).stdout)

    assert arun(main("lab3")) == lab.host("lab3").port
    assert arun(main("via-lab1")) == lab9.port


def test_close_is_idempotent_and_run_after_close_fails_cleanly(lab: LabInfo) -> None:
    async def main() -> None:
        conn = SSHConnector(lab.host_spec("lab10"), lab.connect_options())
        await conn.connect()
        await conn.close()
        await conn.close()
        with pytest.raises(Exception, match="not connected"):
            await conn.run("true")

    arun(main())


def test_silent_server_is_a_connect_timeout(lab: LabInfo) -> None:
    with socket.socket() as listener:  # accepts TCP (backlog) but never says a word
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        spec = HostSpec(name="mute", address="127.0.0.1", port=listener.getsockname()[1])
        began = time.monotonic()
        with pytest.raises(UnreachableError, match=r"timed out after 1s"):
            arun(SSHConnector(spec, lab.connect_options(connect_timeout=1)).connect())
        assert time.monotonic() - began < 5


def test_connection_lost_mid_command_is_unreachable(lab: LabInfo) -> None:
    async def main() -> None:
        conn = SSHConnector(lab.host_spec("lab11"), lab.connect_options())
        await conn.connect()
        task = asyncio.ensure_future(conn.run("sleep 3"))
        await asyncio.sleep(0.3)
        assert conn._link is not None
        conn._link.conn.abort()  # as if the network went away
        with pytest.raises(UnreachableError, match="connection lost"):
            await task
        with pytest.raises(UnreachableError):
            await conn.run("true")
        await conn.close()

    arun(main())


def test_sshd_makes_each_command_a_session_and_group_leader(lab: LabInfo) -> None:
    """The premise of the remote kill: the wrapper's $$ is the command's pgid (and sid)."""

    async def main() -> list[str]:
        async with SSHConnector(lab.host_spec("lab12"), lab.connect_options()) as conn:
            return (await conn.run("ps -o pid=,pgid=,sid= -p $$")).stdout.split()

    pid, pgid, sid = arun(main())
    assert pid == pgid == sid
