"""LocalConnector: the same behaviour as SSH, through local subprocesses."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from opsforge.connectors.local import LocalConnector
from opsforge.errors import CommandTimeout, TransferError
from opsforge.testing import wait_gone
from opsforge.types import HostSpec

from .conftest import arun, assert_cancel_kills, sleeper, upload_started


def local() -> LocalConnector:
    return LocalConnector(HostSpec(name="@local", connector="local"))


def test_run_env_cwd_stdin_exit_code() -> None:
    async def main() -> None:
        async with local() as conn:
            result = await conn.run(
                'echo "$A"; pwd; cat; echo err >&2; exit 5',
                env={"A": "it's"},
                cwd="/tmp",
                stdin="piped",
            )
            assert (result.exit_code, result.stdout, result.stderr) == (
                5,
                "it's\n/tmp\npiped",
                "err\n",
            )
            assert result.host == "@local"
            assert not result.ok
            missing = await conn.run("pwd", cwd="/no/such/dir")
            assert missing.exit_code == 126

    arun(main())


def test_streaming_without_capture() -> None:
    seen: list[str] = []

    async def main() -> str:
        async with local() as conn:
            result = await conn.run(
                "head -c 3000000 /dev/zero | tr '\\0' y",
                on_stdout=seen.append,
                capture=False,
            )
            return result.stdout

    assert arun(main()) == ""
    assert sum(map(len, seen)) == 3_000_000


def test_timeout_kills_the_process_group() -> None:
    command, patterns = sleeper()

    async def main() -> CommandTimeout:
        async with local() as conn:
            with pytest.raises(CommandTimeout) as caught:
                await conn.run(f"echo partial; {command}", timeout=0.5)
            return caught.value

    began = time.monotonic()
    error = arun(main())
    assert time.monotonic() - began < 4
    assert error.result.stdout == "partial\n"
    assert error.result.timed_out
    for pattern in patterns:
        assert wait_gone(pattern) == [], pattern


def test_cancel_kills_the_process_group() -> None:
    async def run(command: str) -> object:
        async with local() as conn:
            return await conn.run(command)

    assert_cancel_kills(run)


def test_put_get_round_trip_with_mode(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    dest = tmp_path / "dest.bin"
    dest.write_bytes(b"old")
    dest.chmod(0o604)

    async def main() -> None:
        async with local() as conn:
            await conn.put(src, str(dest))
            assert dest.stat().st_mode & 0o777 == 0o604  # kept
            await conn.put(data, str(dest), mode=0o640)
            assert dest.stat().st_mode & 0o777 == 0o640
            assert await conn.get(str(dest)) == data
            await conn.get(str(dest), tmp_path / "copy.bin")
            with pytest.raises(TransferError, match="cannot read"):
                await conn.get(str(tmp_path / "missing"))
            with pytest.raises(TransferError):
                await conn.put(b"x", str(tmp_path / "no-dir" / "f"))

    arun(main())
    assert dest.read_bytes() == data
    assert (tmp_path / "copy.bin").read_bytes() == data
    assert not [p for p in tmp_path.iterdir() if ".opsforge-" in p.name]


def test_interrupted_put_keeps_the_old_file(tmp_path: Path) -> None:
    dest = tmp_path / "big"
    dest.write_bytes(b"old")
    data = tmp_path / "sparse.src"  # 2 GiB of zeros that take no memory and no disk
    with data.open("wb") as handle:
        handle.truncate(2 * 1024**3)

    async def main() -> None:
        async with local() as conn:
            task = asyncio.ensure_future(conn.put(data, str(dest)))
            deadline = time.monotonic() + 10
            while not upload_started(tmp_path, "big"):
                assert time.monotonic() < deadline
                assert not task.done()
                await asyncio.sleep(0.002)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    arun(main())
    assert dest.read_bytes() == b"old"
    assert not [p for p in tmp_path.iterdir() if ".opsforge-" in p.name]
