"""What a host sends back is checked before anything is written locally.

The mirror of a remote work directory (``find`` listing, then a tar of the chosen
files) comes from a machine opsforge does not control: these cases feed the real
parsing and writing code hostile or odd input and look at the local files.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from opsforge.errors import TransferError
from opsforge.pipelines.remote import (
    RemoteEntry,
    apply_listing,
    pack_tree,
    parse_listing,
    remote_env,
    unpack_files,
)


def listing(*rows: tuple[str, str, str]) -> str:
    """find's output for rows of (flag+kind and fields, path, link target)."""
    return "".join(f"{head}\0{path}\0{target}\0" for head, path, target in rows)


def entry(path: str, kind: str = "f", *, target: str = "", mode: int = 0o644) -> RemoteEntry:
    return RemoteEntry(path, kind, mode, 0, 0.0, target, touched=True)


@pytest.mark.parametrize(
    "path", ["../escape", "/etc/passwd", "a/../../b", "a//b", "./a", "bad\ufffdname", ""]
)
def test_listing_drops_paths_that_are_not_clean_and_relative(path: str) -> None:
    text = listing(("cf 644 3 1700000000.5", path, ""), ("-f 600 1 1.0", "ok.txt", ""))
    assert [e.path for e in parse_listing(text)] == ["ok.txt"]


def test_listing_fields() -> None:
    text = listing(("cl 777 7 1700000000.25", "dist/current", "app.bin"))
    assert parse_listing(text) == [
        RemoteEntry("dist/current", "l", 0o777, 7, 1700000000.25, "app.bin", touched=True)
    ]


def test_nothing_is_written_below_a_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "work"
    root.mkdir()
    stale = apply_listing(
        root, [entry("link", "l", target=str(outside)), entry("link/planted"), entry("f/x")]
    )
    assert os.readlink(root / "link") == str(outside)
    assert list(outside.iterdir()) == []
    assert stale == set()  # neither the file below the link nor one below a missing dir


def test_changed_hardlinked_files_are_replaced_not_written_through(tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot.txt"
    snapshot.write_text("original")
    root = tmp_path / "work"
    root.mkdir()
    os.link(snapshot, root / "shared.txt")
    (root / "gone.txt").write_text("removed on the host")
    (root / "olddir").mkdir()
    (root / "olddir/file").write_text("x")
    stale = apply_listing(root, [entry("shared.txt"), entry("new", "d"), entry("new/file")])
    assert stale == {"shared.txt", "new/file"}
    assert snapshot.read_text() == "original"
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == [
        "new",
        "new/file",
        "shared.txt",
    ]


def test_unchanged_files_are_kept(tmp_path: Path) -> None:
    root = tmp_path / "work"
    root.mkdir()
    path = root / "same.txt"
    path.write_text("abc")
    path.chmod(0o640)
    st = path.stat()
    same = RemoteEntry("same.txt", "f", 0o640, 3, st.st_mtime, "", touched=False)
    assert apply_listing(root, [same]) == set()
    assert path.read_text() == "abc"


def _tar(members: list[tarfile.TarInfo]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for member in members:
            tar.addfile(member, io.BytesIO(b"data") if member.isfile() else None)
    return buffer.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o755) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = 4 if kind == tarfile.REGTYPE else 0
    info.mtime = 1_700_000_000
    if kind == tarfile.SYMTYPE:
        info.linkname = "/etc/passwd"
    return info


def test_unpack_writes_only_the_expected_files_with_their_mode(tmp_path: Path) -> None:
    root = tmp_path / "work"
    root.mkdir()
    (root / "bin.sh").write_text("")
    archive = tmp_path / "a.tar"
    archive.write_bytes(_tar([_member("bin.sh", mode=0o751)]))
    assert unpack_files(archive, root, {"bin.sh"}, "h") == 1
    assert (root / "bin.sh").read_bytes() == b"data"
    assert (root / "bin.sh").stat().st_mode & 0o777 == 0o751
    assert int((root / "bin.sh").stat().st_mtime) == 1_700_000_000


@pytest.mark.parametrize(
    "member",
    [_member("other.txt"), _member("bin.sh", tarfile.SYMTYPE), _member("../bin.sh")],
    ids=["not asked for", "a symlink", "outside"],
)
def test_unpack_refuses_anything_else(tmp_path: Path, member: tarfile.TarInfo) -> None:
    root = tmp_path / "work"
    root.mkdir()
    archive = tmp_path / "a.tar"
    archive.write_bytes(_tar([member]))
    with pytest.raises(TransferError, match="unexpected entry"):
        unpack_files(archive, root, {"bin.sh"}, "h")
    assert list(root.iterdir()) == []


@pytest.mark.parametrize("native", [True, False], ids=["GNU tar", "tarfile"])
def test_pack_keeps_modes_symlinks_and_empty_dirs(tmp_path: Path, native: bool) -> None:
    root = tmp_path / "work"
    (root / "empty").mkdir(parents=True)
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o750)
    os.utime(root / "run.sh", (1_600_000_000, 1_600_000_000))
    (root / "link").symlink_to("run.sh")
    (root / "dirlink").symlink_to("empty")
    out = tmp_path / "out.tar"
    assert pack_tree(root, out, native=native) == out.stat().st_size
    with tarfile.open(out) as tar:
        members = {m.name.removeprefix("./"): m for m in tar.getmembers() if m.name != "."}
    assert sorted(members) == ["dirlink", "empty", "link", "run.sh"]
    assert members["run.sh"].mode == 0o750
    assert int(members["run.sh"].mtime) == 1_600_000_000
    assert members["link"].issym()
    assert members["link"].linkname == "run.sh"
    assert members["dirlink"].issym()
    assert members["empty"].isdir()
    assert members["run.sh"].uid == 0
    assert members["run.sh"].uname == ""


def test_remote_env_is_what_the_job_defines_or_receives() -> None:
    base = {"PATH": "/usr/bin", "HOME": "/home/me", "LANG": "C", "SSH_AUTH_SOCK": "/tmp/a"}
    env = {
        **base,
        "PATH": "/opt/local/bin:/usr/bin",  # changed here (GITHUB_PATH): a local path
        "LANG": "C",  # the job sets it to what this machine has: still sent
        "CI_PROJECT_DIR": "/run/work/job",
        "CI_BUILDS_DIR": "/run/work/job/sub",
        "OPSFORGE_PROJECT_DIR": "/home/me/project",
        "FROM_DOTENV": "7",
    }
    got = remote_env(env, {"LANG": "C"}, base, "/run/work/job", "/tmp/o.X/work")
    assert got == {
        "LANG": "C",
        "CI_PROJECT_DIR": "/tmp/o.X/work",
        "CI_BUILDS_DIR": "/tmp/o.X/work/sub",
        "FROM_DOTENV": "7",
    }


def test_a_dir_whose_ship_was_interrupted_is_removed_by_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ship was cancelled before the host said where the directory is: remove()
    finds it by the name chosen beforehand (through a real local shell)."""
    import asyncio

    from opsforge.connectors.local import LocalConnector
    from opsforge.pipelines.remote import RemoteWorkdir
    from opsforge.types import HostSpec

    tmpdir = tmp_path / "hosttmp"
    tmpdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    conn = LocalConnector(HostSpec(name="box", connector="local"))

    async def connect() -> LocalConnector:
        return conn

    async def scenario() -> None:
        await conn.connect()
        remote = RemoteWorkdir(connect, "box", "opsforge-run-job", tmp_path)
        (tmpdir / remote.name / "work").mkdir(parents=True)  # what the ship had made
        remote._made = True  # the ship command had started; it never answered
        await remote.remove()
        await conn.close()

    asyncio.run(scenario())
    assert list(tmpdir.iterdir()) == []


def test_a_step_carries_its_values_on_stdin_not_on_the_command_line(tmp_path: Path) -> None:
    import subprocess

    from opsforge.errors import UsageError
    from opsforge.pipelines.executors import shell_command
    from opsforge.pipelines.remote import step_bundle, step_command

    secret = "s3cr3t 'quoted' $value"
    bundle = step_bundle(
        "step-1", b'printf "%s|%s" "$TOKEN" "$PLAIN"\n', {"TOKEN": secret, "PLAIN": "p"}
    )
    command = step_command(
        str(tmp_path), "step-1", shell_command("sh -e {0}", f"{tmp_path}/step-1.sh")
    )
    assert secret not in command
    assert "s3cr3t" not in command
    proc = subprocess.run(
        ["/bin/sh", "-c", command], input=bundle, capture_output=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == f"{secret}|p"
    assert (tmp_path / "step-1.env").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "step-1.sh").stat().st_mode & 0o777 == 0o700
    with pytest.raises(UsageError, match="invalid environment variable name"):
        step_bundle("step-2", b"true\n", {"NOT-A-NAME": "x"})
