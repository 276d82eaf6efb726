"""File operations against a real sshd host of the lab: gather facts in one round trip,
plan, run every change in one script; then plan again and expect nothing to do.

The lab's hosts share this machine's filesystem, so the "host" paths live under the
test's tmp_path, in a directory whose name has spaces, quotes and unicode.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import http.server
import os
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from opsforge.connectors import ConnectionPool
from opsforge.deploy.context import HostContext
from opsforge.deploy.facts.base import FactCache
from opsforge.deploy.operation import Operation
from opsforge.deploy.operations import files
from opsforge.errors import InputError
from opsforge.testing import LabInfo
from opsforge.types import Secret

from .conftest import apply, archive_bytes, gather_and_plan, plan_env

HOST = "lab7"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static HTTP server on 127.0.0.1 serving a tmp dir; stopped by the test."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def declare(build: Callable[[HostContext], None]) -> list[Operation]:
    host = HostContext(name=HOST, vars={}, groups=(), _cache=FactCache(HOST))
    build(host)
    return [d.op for d in host.declared]


def converge(lab: LabInfo, ops: list[Operation], base: Path, **env: Any) -> Any:
    """Plan + apply once, then plan again: (first changes, results, second changes)."""

    async def main() -> Any:
        async with ConnectionPool(lab.connect_options()) as pool:
            conn = await pool.get(lab.host_spec(HOST))
            first, cache = await gather_and_plan(conn, ops, plan_env(base, **env))
            assert cache.round_trips == 1
            results = await apply(conn, first)
            second, _ = await gather_and_plan(conn, ops, plan_env(base, **env))
            return first, results, second

    return asyncio.run(main())


def temps(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if ".opsforge-" in p.name]


def test_every_file_operation_converges_then_is_a_noop(
    lab: LabInfo, tmp_path: Path, http_root: tuple[str, Path]
) -> None:
    base = tmp_path / "deploy"
    (base / "files").mkdir(parents=True)
    (base / "templates").mkdir()
    (base / "files" / "app conf.txt").write_text("port = 80\nname = app\n")
    (base / "templates" / "motd.j2").write_text("Hello {{ who }} on {{ inventory_hostname }}\n")
    (base / "site.tar.gz").write_bytes(
        archive_bytes("tar.gz", {"index.html": "<h1>hi</h1>\n", "css/a b.css": "body {}\n"})
    )
    (base / "app.zip").write_bytes(archive_bytes("zip", {"bin/run me": "#!/bin/sh\n"}))
    url, www = http_root
    (www / "tool.bin").write_bytes(b"\x7fELF tool\x00" * 100)
    tool_sha = hashlib.sha256((www / "tool.bin").read_bytes()).hexdigest()

    root = tmp_path / "hôst röot 'q' \"x\""
    root.mkdir()
    (root / "hosts").write_text("127.0.0.1 localhost\n10.0.0.5 db\n")
    (root / "sshd config").write_text("Port 22\n#PermitRootLogin yes\n")
    (root / "old stuff" / "deep").mkdir(parents=True)
    (root / "old stuff" / "deep" / "x").write_text("x")
    (root / "remote.tar").write_bytes(archive_bytes("tar", {"r.txt": "remote\n"}))
    (root / "data").mkdir()
    (root / "data" / "inner file").write_text("i")
    os.chmod(root / "data" / "inner file", 0o644)
    me = str(os.getuid())

    def build(host: HostContext) -> None:
        app = str(root / "app dir")
        files.directory(host, app, mode="0750")
        files.directory(host, str(root / "data"), mode="0700", owner=me, recursive=True)
        files.copy(host, "files/app conf.txt", f"{app}/app 'conf'.txt", mode="0640")
        files.file(host, f"{app}/app 'conf'.txt", owner=me)  # sees the copy's result
        files.copy(host, dest=f"{app}/bin.dat", content=b"\x00\x01\xffbinary")
        files.copy(host, dest=f"{app}/token", content=Secret("s3cr3t-t0ken"), mode=0o600)
        files.template(host, "templates/motd.j2", str(root / "motd ✓"), who="wörld")
        files.line(host, str(root / "hosts"), "10.0.0.5 db.internal", regexp=r"^10\.0\.0\.5 ")
        files.line(host, str(root / "hosts"), "10.0.0.6 cache", insertafter=r"^10\.0\.0\.5")
        files.line(host, str(root / "new list"), "first line")
        files.block(host, str(root / "sshd config"), "Match User ci\n  X11Forwarding no")
        files.replace(
            host, str(root / "sshd config"), r"^#?PermitRootLogin .*$", "PermitRootLogin no"
        )
        files.link(host, str(root / "current ✓"), "app dir")
        files.file(host, str(root / "touched"), state="touch", mode="0600")
        files.remove(host, str(root / "old stuff"))
        files.download(
            host, f"{url}/tool.bin", str(root / "tool.bin"), sha256=tool_sha, mode="0755"
        )
        files.unarchive(host, "site.tar.gz", str(root / "site dir"))
        files.unarchive(host, "app.zip", str(root / "zip dir"))
        files.unarchive(host, str(root / "remote.tar"), str(root / "remote dir"), remote_src=True)

    ops = declare(build)
    first, results, second = converge(lab, ops, base, variables={"inventory_hostname": HOST})
    assert [op.describe() for op, c in zip(ops, first, strict=True) if c.is_noop] == []
    assert [r.exit_code for r in results] == [0] * len(ops), [
        (r.index, r.output) for r in results if not r.ok
    ]
    leftover = [
        (op.describe(), c.reason or [a.shown() for a in c.actions])
        for op, c in zip(ops, second, strict=True)
        if not c.is_noop
    ]
    assert leftover == []

    app = root / "app dir"
    assert stat.S_IMODE(app.stat().st_mode) == 0o750
    assert stat.S_IMODE((root / "data").stat().st_mode) == 0o700
    assert stat.S_IMODE((root / "data" / "inner file").stat().st_mode) == 0o700
    conf = app / "app 'conf'.txt"
    assert conf.read_text() == "port = 80\nname = app\n"
    assert stat.S_IMODE(conf.stat().st_mode) == 0o640
    assert (app / "bin.dat").read_bytes() == b"\x00\x01\xffbinary"
    assert (app / "token").read_text() == "s3cr3t-t0ken"
    assert stat.S_IMODE((app / "token").stat().st_mode) == 0o600
    assert (root / "motd ✓").read_text() == f"Hello wörld on {HOST}\n"
    assert (root / "hosts").read_text() == (
        "127.0.0.1 localhost\n10.0.0.5 db.internal\n10.0.0.6 cache\n"
    )
    assert (root / "new list").read_text() == "first line\n"
    assert (root / "sshd config").read_text() == (
        "Port 22\nPermitRootLogin no\n# BEGIN OPSFORGE MANAGED BLOCK\n"
        "Match User ci\n  X11Forwarding no\n# END OPSFORGE MANAGED BLOCK\n"
    )
    assert os.readlink(root / "current ✓") == "app dir"
    assert stat.S_IMODE((root / "touched").stat().st_mode) == 0o600
    assert not (root / "old stuff").exists()
    assert (root / "tool.bin").read_bytes() == (www / "tool.bin").read_bytes()
    assert stat.S_IMODE((root / "tool.bin").stat().st_mode) == 0o755
    assert (root / "site dir" / "css" / "a b.css").read_text() == "body {}\n"
    assert (root / "zip dir" / "bin" / "run me").read_text() == "#!/bin/sh\n"
    assert (root / "remote dir" / "r.txt").read_text() == "remote\n"
    assert temps(tmp_path) == []


def test_a_failure_mid_script_leaves_each_file_old_or_new(lab: LabInfo, tmp_path: Path) -> None:
    root = tmp_path / "fail öö"
    root.mkdir()
    big_old, big_new = b"old " * 300_000, b"new " * 300_000
    for name in ("a", "b", "d"):
        (root / name).write_bytes(big_old)

    def build(host: HostContext) -> None:
        files.copy(host, dest=str(root / "a"), content=big_new)
        files.copy(host, dest=str(root / "b"), content=big_new)
        files.copy(host, dest=str(root / "no such dir" / "c"), content=big_new)  # fails
        files.copy(host, dest=str(root / "d"), content=big_new)  # never runs

    _, results, second = converge(lab, declare(build), tmp_path)
    assert [r.exit_code for r in results[:2]] == [0, 0]
    assert results[2].exit_code not in (0, None)
    assert results[3].exit_code is None
    assert (root / "a").read_bytes() == big_new
    assert (root / "b").read_bytes() == big_new
    assert (root / "d").read_bytes() == big_old
    assert not (root / "no such dir").exists()
    assert temps(tmp_path) == []
    assert [c.is_noop for c in second] == [True, True, False, False]


def test_validate_keeps_the_old_file_when_the_new_one_is_refused(
    lab: LabInfo, tmp_path: Path
) -> None:
    root = tmp_path / "valid ated"
    root.mkdir()
    (root / "conf").write_text("ok: old\n")
    (root / "edit").write_text("ok: old\n")
    check = "grep -q '^ok:' %s"

    def refused(host: HostContext) -> None:
        files.copy(host, dest=str(root / "conf"), content="broken\n", validate=check)

    _, results, _ = converge(lab, declare(refused), tmp_path)
    assert results[0].exit_code == 1
    assert "validation failed (grep -q '^ok:' %s)" in results[0].output
    assert (root / "conf").read_text() == "ok: old\n"
    assert temps(tmp_path) == []

    def accepted(host: HostContext) -> None:
        files.copy(host, dest=str(root / "conf"), content="ok: new\n", validate=check)
        files.line(host, str(root / "edit"), "ok: edited", regexp="^ok:", validate=check)
        files.block(host, str(root / "edit"), "more", validate="test -s %s")

    first, results, second = converge(lab, declare(accepted), tmp_path)
    assert [r.exit_code for r in results] == [0, 0, 0]
    assert "validated by grep" in first[0].actions[0].shown()
    assert (root / "conf").read_text() == "ok: new\n"
    assert (root / "edit").read_text().startswith("ok: edited\n")
    assert all(c.is_noop for c in second)
    with pytest.raises(InputError, match="validate must contain %s"):
        declare(lambda host: files.copy(host, dest="/x", content="", validate="visudo -c"))


def test_remote_src_copies_on_the_host_then_is_a_noop(lab: LabInfo, tmp_path: Path) -> None:
    root = tmp_path / "remote 'src'"
    root.mkdir()
    (root / "dist.conf").write_text("shipped\n")
    (root / "app.conf").write_text("old\n")

    def build(host: HostContext) -> None:
        files.copy(host, str(root / "dist.conf"), str(root / "app.conf"), remote_src=True,
                   mode="0600")  # fmt: skip
        files.copy(host, str(root / "dist.conf"), str(root / "new.conf"), remote_src=True)

    _, results, second = converge(lab, declare(build), tmp_path)
    assert [r.exit_code for r in results] == [0, 0]
    assert (root / "app.conf").read_text() == "shipped\n"
    assert stat.S_IMODE((root / "app.conf").stat().st_mode) == 0o600
    assert stat.S_IMODE((root / "new.conf").stat().st_mode) == 0o644
    assert all(c.is_noop for c in second)
    assert temps(tmp_path) == []


def test_a_download_with_a_wrong_checksum_changes_nothing(
    lab: LabInfo, tmp_path: Path, http_root: tuple[str, Path]
) -> None:
    url, www = http_root
    (www / "f.txt").write_text("served\n")
    dest = tmp_path / "dl dir" / "f.txt"
    dest.parent.mkdir()
    dest.write_text("before\n")

    def build(host: HostContext) -> None:
        files.download(host, f"{url}/f.txt", str(dest), sha256="0" * 64)
        files.download(host, f"{url}/missing.txt", str(tmp_path / "dl dir" / "m.txt"))

    _, results, _ = converge(lab, declare(build), tmp_path)
    assert results[0].exit_code == 1
    assert "expected 000000" in results[0].output
    assert dest.read_text() == "before\n"

    def build_missing(host: HostContext) -> None:
        files.download(host, f"{url}/missing.txt", str(tmp_path / "dl dir" / "m.txt"))

    _, results, _ = converge(lab, declare(build_missing), tmp_path)
    assert results[0].exit_code not in (0, None)
    assert not (tmp_path / "dl dir" / "m.txt").exists()
    assert temps(tmp_path) == []


def test_link_force_and_directory_removal_on_a_real_host(lab: LabInfo, tmp_path: Path) -> None:
    root = tmp_path / "links"
    (root / "empty dir").mkdir(parents=True)
    (root / "a file").write_text("x")
    (root / "releases" / "2").mkdir(parents=True)
    (root / "gone dir" / "sub").mkdir(parents=True)

    def build(host: HostContext) -> None:
        files.link(host, str(root / "empty dir"), "releases/2", force=True)
        files.link(host, str(root / "a file"), "releases/2", force=True)
        files.directory(host, str(root / "gone dir"), present=False)
        files.directory(host, str(root / "new" / "nested dir"), mode="0711")

    _, results, second = converge(lab, declare(build), tmp_path)
    assert all(r.ok for r in results), [r.output for r in results]
    assert all(c.is_noop for c in second), [c.actions for c in second]
    assert os.readlink(root / "empty dir") == "releases/2"
    assert os.readlink(root / "a file") == "releases/2"
    assert not (root / "gone dir").exists()
    assert stat.S_IMODE((root / "new" / "nested dir").stat().st_mode) == 0o711
