"""put/get over SSH: atomic, binary-safe, interrupted transfers leave nothing behind.

The lab runs on this machine, so remote paths are checked locally.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import pwd
import time
from pathlib import Path

import pytest

from opsforge.connectors.ssh import SSHConnector
from opsforge.errors import TransferError
from opsforge.testing import LabInfo

from .conftest import arun, upload_started


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if ".opsforge-" in p.name]


@pytest.mark.slow
def test_20_mb_binary_round_trip(lab: LabInfo, tmp_path: Path) -> None:
    data = os.urandom(20 * 1024 * 1024)
    local = tmp_path / "random.bin"
    local.write_bytes(data)
    remote = tmp_path / "remote"
    remote.mkdir()

    async def main() -> None:
        async with SSHConnector(lab.host_spec("lab16"), lab.connect_options()) as conn:
            began = time.perf_counter()
            await conn.put(data, str(remote / "from-bytes"))
            put_s = time.perf_counter() - began
            await conn.put(local, str(remote / "from-path"))
            began = time.perf_counter()
            got = await conn.get(str(remote / "from-bytes"))
            get_s = time.perf_counter() - began
            assert got is not None
            assert sha(got) == sha(data)
            await conn.get(str(remote / "from-path"), tmp_path / "fetched.bin")
            print(f"20 MB put {20 / put_s:.0f} MB/s, get {20 / get_s:.0f} MB/s")

    arun(main())
    assert sha((remote / "from-bytes").read_bytes()) == sha(data)
    assert sha((remote / "from-path").read_bytes()) == sha(data)
    assert sha((tmp_path / "fetched.bin").read_bytes()) == sha(data)
    assert leftovers(remote) == leftovers(tmp_path) == []


@pytest.mark.parametrize("size", [5, 3 * 1024 * 1024 + 1], ids=["small", "large"])
def test_put_replaces_atomically_with_mode(lab: LabInfo, tmp_path: Path, size: int) -> None:
    dest = tmp_path / "file"
    dest.write_bytes(b"old")
    dest.chmod(0o600)
    data = bytes(range(256)) * (size // 256 + 1)

    async def main() -> None:
        async with SSHConnector(lab.host_spec("lab17"), lab.connect_options()) as conn:
            await conn.put(data, str(dest))
            assert dest.stat().st_mode & 0o7777 == 0o600  # kept the old file's mode
            await conn.put(data, str(dest), mode=0o751)
            assert dest.stat().st_mode & 0o7777 == 0o751
            await conn.put(b"x", str(tmp_path / "new"))
            assert (tmp_path / "new").stat().st_mode & 0o777 == 0o666 & ~_umask()

    arun(main())
    assert dest.read_bytes() == data
    assert leftovers(tmp_path) == []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.root
@pytest.mark.parametrize("size", [5, 3 * 1024 * 1024 + 1], ids=["small", "large"])
def test_put_owner_and_group(lab: LabInfo, tmp_path: Path, size: int) -> None:
    if os.geteuid() != 0:
        pytest.skip("chown needs root")
    nobody = pwd.getpwnam("nobody")
    dest = tmp_path / "owned"

    async def main() -> None:
        async with SSHConnector(lab.host_spec("lab17"), lab.connect_options()) as conn:
            await conn.put(b"o" * size, str(dest), owner="nobody", group="nogroup", mode=0o640)

    arun(main())
    st = dest.stat()
    assert (st.st_uid, st.st_mode & 0o777) == (nobody.pw_uid, 0o640)


def test_put_and_get_errors_name_host_and_path(lab: LabInfo, tmp_path: Path) -> None:
    async def main() -> None:
        async with SSHConnector(lab.host_spec("lab18"), lab.connect_options()) as conn:
            with pytest.raises(TransferError, match="no such file") as caught:
                await conn.get(str(tmp_path / "missing"))
            assert caught.value.host == "lab18"
            assert str(tmp_path / "missing") in str(caught.value)
            with pytest.raises(TransferError, match="missing-dir"):
                await conn.put(b"x", str(tmp_path / "missing-dir" / "f"))
            (tmp_path / "a-dir").mkdir()
            with pytest.raises(TransferError, match="a-dir"):
                await conn.put(b"x", str(tmp_path / "a-dir"))
            with pytest.raises(TransferError, match="cannot read local file"):
                await conn.put(tmp_path / "no-local-file", str(tmp_path / "f"))
            with pytest.raises(TransferError):
                await conn.get(str(tmp_path / "missing"), tmp_path / "local-copy")
            assert not (tmp_path / "local-copy").exists()

    arun(main())
    assert leftovers(tmp_path) == []


def test_interrupted_put_keeps_the_old_file(lab: LabInfo, tmp_path: Path) -> None:
    dest = tmp_path / "big"
    dest.write_bytes(b"old content")
    data = tmp_path / "sparse.src"  # 2 GiB of zeros that take no memory and no disk
    with data.open("wb") as handle:
        handle.truncate(2 * 1024**3)

    async def main() -> None:
        async with SSHConnector(lab.host_spec("lab19"), lab.connect_options()) as conn:
            task = asyncio.ensure_future(conn.put(data, str(dest)))
            deadline = time.monotonic() + 10
            while not upload_started(tmp_path, "big"):
                assert time.monotonic() < deadline, "the upload never started"
                assert not task.done()
                await asyncio.sleep(0.005)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert (await conn.run("echo usable")).ok

    arun(main())
    assert dest.read_bytes() == b"old content"
    assert leftovers(tmp_path) == []
