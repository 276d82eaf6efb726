"""File facts: the parsers as spec cases (``files.yml``), and the commands run by a real
``sh`` (through the one-round-trip gather of the local connector) on real files with
awkward names."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import re
import stat
import tarfile
import zipfile
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsforge.connectors.local import LocalConnector
from opsforge.deploy.facts import files as facts
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.files import (
    CONTENT_LIMIT,
    ArchiveInSync,
    FileInfo,
    FileState,
    TreeDigests,
    TreeDrift,
)
from opsforge.types import HostSpec

SPEC = yaml.safe_load((Path(__file__).parent / "files.yml").read_text())
AWKWARD = ["plain", "with space", "q'uote\"d", "new\nline", "ünïcødé ✓", "-dash", "back\\slash"]


def _cases() -> list[Any]:
    return [
        pytest.param(kind, case, id=f"{kind}: {name}")
        for kind, cases in SPEC.items()
        for name, case in cases.items()
    ]


def _plain(value: Any) -> Any:
    """A parsed value in the spec's terms: dataclasses as dicts, modes octal, bytes text."""
    if is_dataclass(value) and not isinstance(value, type):
        out = asdict(value)
        if isinstance(value, FileInfo):
            out["mode"] = f"{value.mode:04o}"
            out["content"] = value.content.decode() if value.content is not None else None
        return {k: _plain(v) for k, v in out.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize(("kind", "case"), _cases())
def test_parser_spec(kind: str, case: dict[str, Any]) -> None:
    fact: Fact[Any] = getattr(facts, kind)(**case["fact"])
    output, code = case.get("output", ""), case.get("exit_code", 0)
    if "error" in case:
        with pytest.raises(ValueError, match=re.escape(case["error"])):
            fact.parse(output, code)
        return
    value = _plain(fact.parse(output, code))
    expected = case["value"]
    if isinstance(expected, dict):
        assert {k: value[k] for k in expected} == expected
    else:
        assert value == expected


def gather(*wanted: Fact[Any]) -> FactCache:
    async def main() -> FactCache:
        cache = FactCache("local")
        async with LocalConnector(HostSpec("local", connector="local")) as conn:
            await cache.gather(conn, wanted)
        return cache

    return asyncio.run(main())


def test_file_state_on_real_files(tmp_path: Path) -> None:
    for name in AWKWARD:
        (tmp_path / name).write_bytes(f"content of {name}\n".encode())
    (tmp_path / "exec").write_bytes(b"#!/bin/sh\n")
    os.chmod(tmp_path / "exec", 0o4750)
    (tmp_path / "big").write_bytes(b"x" * (CONTENT_LIMIT + 1))
    (tmp_path / "exact").write_bytes(b"y" * CONTENT_LIMIT)
    (tmp_path / "dir x").mkdir()
    os.symlink("tar get\nwith 'odd' name", tmp_path / "dangling")
    os.symlink("dir x", tmp_path / "to dir")
    os.mkfifo(tmp_path / "fifo")
    names = [*AWKWARD, "exec", "big", "exact", "dir x", "dangling", "to dir", "fifo", "gone"]
    wanted = [FileState(str(tmp_path / n), content=True) for n in names]
    wanted.append(FileState(str(tmp_path / "plain" / "under a file")))
    cache = gather(*wanted)
    assert cache.round_trips == 1
    for name in names:
        path = tmp_path / name
        info = cache.get(FileState(str(path), content=True))
        if name == "gone":
            assert info is None
            continue
        assert info is not None
        st = os.lstat(path)
        assert (info.mode, info.uid, info.gid, info.size) == (
            stat.S_IMODE(st.st_mode),
            st.st_uid,
            st.st_gid,
            st.st_size,
        ), name
        assert info.mtime == int(st.st_mtime)
        if name in AWKWARD or name in ("exec", "big", "exact"):
            data = path.read_bytes()
            assert info.type == "file"
            assert info.sha256 == hashlib.sha256(data).hexdigest()
            assert info.content == (None if name == "big" else data)
            assert info.too_big == (name == "big")
    assert cache.get(FileState(str(tmp_path / "dir x"), content=True)).type == "directory"  # type: ignore[union-attr]
    dangling = cache.get(FileState(str(tmp_path / "dangling"), content=True))
    assert dangling is not None
    assert (dangling.type, dangling.link_target, dangling.target_type) == (
        "link",
        "tar get\nwith 'odd' name",
        None,
    )
    to_dir = cache.get(FileState(str(tmp_path / "to dir"), content=True))
    assert to_dir is not None
    assert (to_dir.link_target, to_dir.target_type) == ("dir x", "directory")
    fifo = cache.get(FileState(str(tmp_path / "fifo"), content=True))
    assert fifo is not None
    assert fifo.type == "other"
    assert cache.get(FileState(str(tmp_path / "plain" / "under a file"))) is None


def test_tree_facts_on_real_files(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    (root / "sub dir").mkdir(parents=True)
    for name in AWKWARD:
        (root / "sub dir" / name).write_text(name)
    os.chmod(root, 0o750)
    os.chmod(root / "sub dir", 0o750)
    for name in AWKWARD:
        os.chmod(root / "sub dir" / name, 0o750)
    os.chmod(root / "sub dir" / "plain", 0o600)
    me = str(os.getuid())
    drift_ok = TreeDrift(str(root), 0o750, me, str(os.getgid()))
    drift_bad = TreeDrift(str(root), 0o755, "no-such-user-x")
    digests = TreeDigests(str(root))
    cache = gather(drift_ok, drift_bad, digests, TreeDigests(str(root), limit=3))
    assert cache.get(drift_ok).mode == (str(root / "sub dir" / "plain"),)
    assert cache.get(drift_ok).owner == ()
    assert len(cache.get(drift_bad).mode) == 5  # sampled
    assert cache.get(drift_bad).owner == ("?",)
    expected = sorted((f"sub dir/{n}", hashlib.sha256(n.encode()).hexdigest()) for n in AWKWARD)
    assert list(cache.get(digests) or ()) == expected
    assert cache.get(TreeDigests(str(root), limit=3)) is None


def test_archive_in_sync_on_real_archives(tmp_path: Path) -> None:
    def tar(path: Path, members: dict[str, bytes]) -> None:
        with tarfile.open(path, "w:gz") as archive:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.uid = len(data), 1577836800, 4242
                archive.addfile(info, io.BytesIO(data))

    def extract(members: dict[str, bytes], dest: Path) -> None:
        for name, data in members.items():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(data)
            os.utime(dest / name, (1577836800, 1577836800))

    members = {"a.txt": b"a\n", "dir/b c.txt": b"b\n"}
    tar(tmp_path / "a.tar.gz", members)
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    same, changed, empty = tmp_path / "same", tmp_path / "changed", tmp_path / "empty"
    for dest in (same, changed, empty):
        dest.mkdir()
    extract(members, same)
    extract({**members, "a.txt": b"A\n"}, changed)
    checks = {
        (a, d): ArchiveInSync(str(tmp_path / a), str(d))
        for a in ("a.tar.gz", "a.zip", "missing.tgz")
        for d in (same, changed, empty, tmp_path / "nodir")
    }
    cache = gather(*checks.values())
    got = {(a, Path(d).name): cache.get(f) for (a, d), f in checks.items()}
    for archive in ("a.tar.gz", "a.zip"):
        assert got[(archive, "same")] == "same"
        assert got[(archive, "changed")] == "differs"
        assert got[(archive, "empty")] == "differs"
        assert got[(archive, "nodir")] == "differs"
    assert {v for (a, _), v in got.items() if a == "missing.tgz"} == {"missing"}
