"""A job's directory on an ssh host: shipped from the local workdir, mirrored back after.

The local isolated workdir of an ssh job is built exactly as for a local job (project
files, artifacts of the jobs it needs, restored caches). :class:`RemoteWorkdir` then

* **ships** it in one round trip: one tar (modes, mtimes and symlinks kept) on
  the stdin of one command that makes a private directory (``mkdir`` of
  ``/tmp/opsforge-<run>-<job>.<random>``, mode 0700: it fails if anything is there) and
  unpacks the stream into its ``work/`` and touches a marker (an archive larger than
  :data:`SHIP_ON_STDIN` is uploaded from its file instead, then unpacked);
* **mirrors back** what the job left there, in at most three round trips: one
  ``find`` lists every entry (type, mode, size, mtime, symlink target, and whether its
  inode changed after the marker); the local workdir is made to match that listing
  (gone entries removed, new or changed regular files as empty placeholders, symlinks
  and directories as they are), so the local artifact, report and cache globs see the
  remote tree exactly; the placeholders those globs select are then packed on the host
  into one tar, fetched over the connection and unpacked in place;
* **removes** the remote directory (shielded from cancellation).

Nothing the host sends is written outside the local workdir: paths are checked, and no
entry is written below a symlink. The host needs GNU ``tar`` and GNU
``find``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import os
import re
import secrets
import shlex
import shutil
import stat
import subprocess
import tarfile
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from opsforge.connectors.base import Connector
from opsforge.errors import TransferError, UsageError
from opsforge.pipelines.variables import LOCAL_ONLY, job_environment
from opsforge.types import Result

__all__ = [
    "LOCAL_ONLY",
    "RemoteEntry",
    "RemoteWorkdir",
    "apply_listing",
    "pack_tree",
    "parse_listing",
    "remote_env",
    "step_bundle",
    "step_command",
    "unpack_files",
]

#: where (under the remote user's home) the persistent ``cache_dirs`` of ssh jobs live
CACHE_ROOT = ".cache/opsforge/dirs"
#: archives up to this size go on the ship command's stdin (held in memory for a moment);
#: larger ones are uploaded from a file, then unpacked (two more round trips)
SHIP_ON_STDIN = 32 * 1024 * 1024
#: how long the removal of a remote job directory may take
REMOVE_TIMEOUT = 30.0
_SHIPPED = ".shipped"
_LISTING_FORMAT = "%y %m %s %T@\\0%P\\0%l\\0"


@dataclass(frozen=True, slots=True)
class RemoteEntry:
    """One entry of the remote work directory as ``find`` listed it."""

    path: str  # relative to work/
    kind: str  # find's %y: f (file), d (dir), l (symlink), others
    mode: int
    size: int
    mtime: float
    target: str  # symlink target ("" otherwise)
    touched: bool  # its inode changed after the files were shipped


@functools.cache
def _gnu_tar() -> str | None:
    """This machine's ``tar`` when it is GNU tar (an order of magnitude faster than
    :mod:`tarfile` on many small files), else None."""
    tar = shutil.which("tar")
    if tar is None:
        return None
    try:
        proc = subprocess.run([tar, "--version"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return tar if b"GNU tar" in proc.stdout else None


def pack_tree(root: Path, out: Path, *, native: bool = True) -> int:
    """Write a tar of every directory, regular file and symlink below ``root`` to ``out``
    (paths relative to ``root``; modes and mtimes kept, owners dropped), made by GNU tar
    when this machine has it (and ``native``), else by :mod:`tarfile`; return its size."""
    tar = _gnu_tar() if native else None
    if tar is None:
        _pack_with_tarfile(root, out)
        return out.stat().st_size
    owners = ["--owner=0", "--group=0", "--numeric-owner"]
    proc = subprocess.run(
        [tar, "-c", "-f", str(out), "-C", str(root), *owners, "."], capture_output=True, check=False
    )
    if proc.returncode != 0:
        said = " ".join(proc.stderr.decode(errors="replace").split())
        raise TransferError(f"cannot pack the job's files in {root}: {said}")
    return out.stat().st_size


def _pack_with_tarfile(root: Path, out: Path) -> None:

    def anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for current, dirs, files in os.walk(root):
            dirs.sort()
            base = Path(current)
            rel = base.relative_to(root)
            for name in sorted(files) + [d for d in dirs if (base / d).is_symlink()]:
                path = base / name
                if path.is_symlink() or path.is_file():
                    tar.add(path, arcname=str(rel / name), recursive=False, filter=anonymous)
            dirs[:] = [d for d in dirs if not (base / d).is_symlink()]
            for name in dirs:
                tar.add(base / name, arcname=str(rel / name), recursive=False, filter=anonymous)


def parse_listing(text: str) -> list[RemoteEntry]:
    """Entries of the listing written by :data:`_LISTING_FORMAT` (flag first); paths that
    are not clean relative paths, or that did not survive UTF-8 decoding, are dropped."""
    parts = text.split("\0")
    entries: list[RemoteEntry] = []
    for i in range(0, len(parts) - 2, 3):
        head, path, target = parts[i], parts[i + 1], parts[i + 2]
        fields = head.split(" ")
        if len(fields) != 4 or len(fields[0]) != 2 or not _clean(path):
            continue
        try:
            mode, size, mtime = int(fields[1], 8), int(fields[2]), float(fields[3])
        except ValueError:
            continue
        touched, kind = fields[0][0] == "c", fields[0][1]
        entries.append(RemoteEntry(path, kind, mode, size, mtime, target, touched))
    return entries


def _clean(path: str) -> bool:
    parts = path.split("/")
    return (
        bool(path)
        and not path.startswith("/")
        and "\ufffd" not in path
        and all(p not in ("", ".", "..") for p in parts)
    )


def _changed(entry: RemoteEntry, local: Path) -> bool:
    try:
        st = local.lstat()
    except OSError:
        return True
    if entry.kind == "l":
        return not stat.S_ISLNK(st.st_mode) or os.readlink(local) != entry.target
    return (
        entry.touched
        or not stat.S_ISREG(st.st_mode)
        or st.st_size != entry.size
        or stat.S_IMODE(st.st_mode) != entry.mode
        or abs(st.st_mtime - entry.mtime) >= 1.0
    )


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def apply_listing(root: Path, entries: Iterable[RemoteEntry]) -> set[str]:
    """Make ``root`` look like the remote tree; return the regular files whose content
    must still be fetched (now empty placeholders). Hardlinked files are never written
    to: a changed file is unlinked and created anew."""
    wanted = {e.path: e for e in entries if e.kind in ("f", "d", "l")}
    dirs = {p for p, e in wanted.items() if e.kind == "d"}
    for current, subdirs, files in os.walk(root, topdown=False):
        base = Path(current)
        for name in [*files, *subdirs]:
            path = base / name
            rel = str(path.relative_to(root))
            entry = wanted.get(rel)
            is_dir = path.is_dir() and not path.is_symlink()
            if entry is None or (entry.kind == "d") != is_dir:
                _remove(path)
    stale: set[str] = set()
    for rel in sorted(wanted):
        entry = wanted[rel]
        parent = rel.rpartition("/")[0]
        if parent and parent not in dirs:
            continue  # below a symlink or a file: never written
        path = root / rel
        if entry.kind == "d":
            path.mkdir(exist_ok=True)
        elif _changed(entry, path):
            if os.path.lexists(path):
                path.unlink()
            if entry.kind == "l":
                os.symlink(entry.target, path)
            else:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                stale.add(rel)
    return stale


def unpack_files(tar_path: Path, root: Path, expected: set[str], host: str) -> int:
    """Write the regular files of ``tar_path`` over their placeholders below ``root``
    (mode and mtime as on the host); anything else in the archive is an error."""
    count = 0
    with tarfile.open(tar_path, "r:") as tar:
        for member in tar:
            name = member.name.removeprefix("./")
            if not member.isfile() or name not in expected:
                raise TransferError(f"unexpected entry {member.name!r} in the archive", host=host)
            source = tar.extractfile(member)
            assert source is not None
            path = root / name
            if os.path.lexists(path):
                path.unlink()
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            fd = os.open(path, flags, 0o600)
            with os.fdopen(fd, "wb") as out, source:
                shutil.copyfileobj(source, out, 1024 * 1024)
                os.fchmod(out.fileno(), member.mode & 0o7777)
            os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)
            count += 1
    return count


def remote_env(
    env: Mapping[str, str],
    job_env: Mapping[str, str],
    base: Mapping[str, str],
    local_workdir: str,
    work: str,
) -> dict[str, str]:
    """What a job's steps get on the host (:func:`~opsforge.pipelines.variables.job_environment`);
    paths into the local workdir point into the remote ``work`` instead."""
    return {
        key: value.replace(local_workdir, work) if local_workdir in value else value
        for key, value in job_environment(env, job_env, base).items()
    }


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def step_bundle(name: str, script: bytes, env: Mapping[str, str]) -> bytes:
    """A small tar of ``<name>.sh`` (the step's script, 0700) and ``<name>.env``
    (``export`` lines, 0600), unpacked on the host from a step command's stdin: the
    job's values (secrets included) never stand on a command line that ``ps`` or an
    audit log shows."""
    bad = [key for key in env if not _ENV_NAME.match(key)]
    if bad:
        raise UsageError(f"invalid environment variable name: {bad[0]!r}")
    exports = "".join(f"export {key}={shlex.quote(value)}\n" for key, value in env.items())
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member, data, mode in (
            (f"{name}.env", exports.encode(), 0o600),
            (f"{name}.sh", script, 0o700),
        ):
            info = tarfile.TarInfo(member)
            info.size, info.mode, info.mtime = len(data), mode, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def step_command(directory: str, name: str, run: str) -> str:
    """The command that unpacks :func:`step_bundle` into ``directory``, takes its
    variables and runs ``run`` (the shell line for ``<directory>/<name>.sh``)."""
    d = shlex.quote(directory)
    return f"tar -x -p --no-same-owner -f - -C {d} && . {d}/{name}.env && exec {run}"


def _said(stderr: str, code: int | None) -> str:
    return " ".join(stderr.split()) or f"exit code {code}"


class RemoteWorkdir:
    """The per-job directory on one host (see the module docstring)."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[Connector]],
        host: str,
        name: str,
        scratch: Path,
    ) -> None:
        self._connect = connect
        self.host = host
        # opsforge-<run>-<job>.<random>: made with mkdir (fails if anything is there);
        # known before the ship command runs, so an interrupted ship is cleaned up too
        self.name = f"{name}.{secrets.token_hex(6)}"
        self._made = False
        self.scratch = scratch  # a private local directory for the tar files
        self.path: str | None = None
        self.env: dict[str, str] = {}  # variables the steps get (cache dirs on the host)

    @property
    def work(self) -> str:
        if self.path is None:
            raise TransferError("the job's files were not shipped yet", host=self.host)
        return f"{self.path}/work"

    async def ship(self, local: Path, cache_dirs: Mapping[str, str] | None = None) -> int:
        """Make the remote directory and unpack ``local``'s files into it; return the
        size of the archive sent (bytes).

        ``cache_dirs`` maps variable names to directories under ``~/``:CACHE_ROOT on the
        host, made when missing; :attr:`env` then holds their absolute paths."""
        conn = await self._connect()
        archive = self.scratch / "ship.tar"
        try:
            size = await asyncio.to_thread(pack_tree, local, archive)
            dirs = " ".join(shlex.quote(f"{CACHE_ROOT}/{d}") for d in (cache_dirs or {}).values())
            prepare = (
                f'umask 077 && d="${{TMPDIR:-/tmp}}"/{shlex.quote(self.name)} && mkdir "$d" && '
                'printf "%s\\n%s\\n" "$d" "$HOME" && mkdir "$d/work"'
                + (f' && for c in {dirs}; do mkdir -p "$HOME/$c" || exit 1; done' if dirs else "")
            )
            unpack = 'tar -x -p --no-same-owner -f {0} -C "$d/work" && touch "$d/' + _SHIPPED + '"'
            self._made = True
            if size <= SHIP_ON_STDIN:  # one round trip
                data = await asyncio.to_thread(archive.read_bytes)
                result = await conn.run(f"{prepare} && {unpack.format('-')}", stdin=data)
            else:  # streamed from the file (memory stays flat): three round trips
                result = await conn.run(prepare)
                if result.ok:
                    result = await self._put_and_unpack(conn, archive, unpack, result)
        finally:
            with contextlib.suppress(OSError):
                archive.unlink()
        made = result.stdout.splitlines()
        if made and made[0].startswith("/"):
            self.path = made[0]
        else:
            self._made = False  # its mkdir failed: nothing there is ours
        if not result.ok:
            where = self.path or "a directory under /tmp"
            why = _said(result.stderr, result.exit_code)
            raise TransferError(f"cannot unpack the job's files in {where}: {why}", host=self.host)
        home = made[1] if len(made) > 1 else ""
        for variable, name in (cache_dirs or {}).items():
            self.env[variable] = f"{home}/{CACHE_ROOT}/{name}"
        return size

    async def _put_and_unpack(
        self, conn: Connector, archive: Path, unpack: str, prepared: Result
    ) -> Result:
        """The remote directory is made (``prepared`` printed it): upload the archive
        there over the connection's file transfer, then unpack and remove it."""
        where = prepared.stdout.splitlines()[0]
        remote_tar = f"{where}/ship.tar"
        await conn.put(archive, remote_tar, mode=0o600)
        command = f"d={shlex.quote(where)} && {unpack.format(shlex.quote(remote_tar))}"
        result = await conn.run(f"{command} && rm -f -- {shlex.quote(remote_tar)}")
        return replace(result, stdout=prepared.stdout)

    async def mirror(self, local: Path, select: Callable[[Path], set[str]]) -> int:
        """Make ``local`` match the remote work directory and fetch the contents of the
        files ``select(local)`` names; return how many files were fetched."""
        conn = await self._connect()
        work = shlex.quote(self.work)
        listing = await conn.run(
            f"cd {work} && find . -mindepth 1 \\( -cnewer ../{_SHIPPED} -printf c "
            f"-o -printf - \\) -printf '{_LISTING_FORMAT}'"
        )
        if not listing.ok:
            why = _said(listing.stderr, listing.exit_code)
            raise TransferError(f"cannot list {self.work}: {why}", host=self.host)
        entries = parse_listing(listing.stdout)
        stale = await asyncio.to_thread(apply_listing, local, entries)
        fetch = sorted(stale & await asyncio.to_thread(select, local))
        if not fetch:
            return 0
        remote_tar = f"{self.path}/collect.tar"
        packed = await conn.run(
            f"tar -c -f {shlex.quote(remote_tar)} --no-recursion --null -T -",
            cwd=self.work,
            stdin="\0".join(fetch) + "\0",
        )
        if not packed.ok:
            why = _said(packed.stderr, packed.exit_code)
            raise TransferError(f"cannot pack the job's files: {why}", host=self.host)
        archive = self.scratch / "collect.tar"
        try:
            await conn.get(remote_tar, archive)
            return await asyncio.to_thread(unpack_files, archive, local, set(fetch), self.host)
        finally:
            with contextlib.suppress(OSError):
                archive.unlink()

    async def remove(self) -> None:
        """Remove the remote directory (best effort, not cancellable); errors are raised
        as :class:`TransferError` for the caller to note."""
        if not self._made:
            return
        self._made = False
        path, self.path = self.path, None
        # unknown when the ship was interrupted: the same expression as it used
        where = shlex.quote(path) if path else f'"${{TMPDIR:-/tmp}}"/{shlex.quote(self.name)}'

        async def run() -> None:
            conn = await self._connect()
            result = await conn.run(f"rm -rf -- {where}", timeout=REMOVE_TIMEOUT)
            if not result.ok:
                why = _said(result.stderr, result.exit_code)
                raise TransferError(f"cannot remove {path or self.name}: {why}", host=self.host)

        await asyncio.shield(asyncio.ensure_future(run()))
