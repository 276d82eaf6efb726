"""Files from elsewhere: a download on the host (``get_url``) and archives (``unarchive``)."""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import tarfile
import zipfile
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from opsforge.deploy.commands import Action, Command, WriteFile, quote
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.files import ArchiveInSync, FileState, TreeDigests
from opsforge.deploy.operation import Change, DiffItem, Operation, PlanEnv
from opsforge.deploy.operations.files_attrs import (
    DEFAULT_FILE_MODE,
    Attrs,
    check_path,
    describe_info,
    fixed,
    predict,
    refuse,
    settled,
)
from opsforge.deploy.operations.files_content import read_local
from opsforge.errors import InputError

__all__ = ["Download", "Unarchive", "archive_format", "archive_members"]

_DOWNLOAD = """\
t=$(mktemp {temp}) || exit $?
trap 'rm -f "$t"' EXIT
if command -v curl >/dev/null 2>&1; then curl -fsSL -o "$t" {url}
elif command -v wget >/dev/null 2>&1; then wget -q -O "$t" {url}
else echo 'download: neither curl nor wget is installed' >&2; exit 127; fi"""

_CHECK = """\
s=$(sha256sum < "$t" | cut -c1-64)
[ "$s" = {sha} ] || {{ echo "download: sha256 $s, expected {sha}" >&2; exit 1; }}"""


def _temp(path: str) -> str:
    head, name = posixpath.split(path)
    return quote(f"{head}/.{name}.opsforge-XXXXXX")


@dataclass(frozen=True)
class Download(Operation):
    """``dest`` holds what ``url`` serves (fetched on the host with curl or wget into a
    temp file, checked against ``sha256``, then renamed into place)."""

    url: str
    dest: str
    sha256: str | None = None
    attrs: Attrs = field(default_factory=Attrs)
    force: bool = False

    kind: ClassVar[str] = "files.download"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dest", check_path(self.dest, "dest"))
        if not re.match(r"(?i)(https?|ftp|file)://\S+$", self.url or ""):
            raise InputError(f"download: not an http(s)/ftp/file URL: {self.url!r}")
        if self.sha256 is not None:
            digest = self.sha256.lower().removeprefix("sha256:")
            if not re.fullmatch(r"[0-9a-f]{64}", digest):
                raise InputError(f"download: sha256 must be 64 hex digits, got {self.sha256!r}")
            object.__setattr__(self, "sha256", digest)

    def describe(self) -> str:
        return f"download {self.url} -> {self.dest}"

    def facts(self) -> tuple[Fact[Any], ...]:
        return (FileState(self.dest),)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        info = facts.get(FileState(self.dest))
        if info is not None and not info.is_file:
            raise refuse(env, f"{self.dest} is a {info.type}: give the path of the file to write")
        if info is not None and not self.force and self.sha256 in (None, info.sha256):
            actions, diff = self.attrs.fixups(self.dest, info, is_dir=False)
            if actions:
                fixed_facts = fixed(self.dest, facts, "file", self.attrs)
                return Change(tuple(actions), tuple(diff), facts_after=fixed_facts)
            checked = ", sha256 matches" if self.sha256 else ""
            return Change.noop(f"{self.dest} exists ({describe_info(info)}{checked})")
        mode = self.attrs.desired_mode(info, is_dir=False)
        if mode is None:
            mode = info.mode if info else DEFAULT_FILE_MODE
        owner = self.attrs.owner or (str(info.uid) if info else None)
        group = self.attrs.group or (str(info.gid) if info else None)
        lines = [_DOWNLOAD.format(temp=_temp(self.dest), url=quote(self.url))]
        if self.sha256:
            lines.append(_CHECK.format(sha=self.sha256))
        lines.append(f'chmod {mode:04o} "$t"')
        if owner:
            lines.append(f'chown {quote(owner + (":" + group if group else ""))} "$t"')
        elif group:
            lines.append(f'chgrp {quote(group)} "$t"')
        lines += [f'mv -f "$t" {quote(self.dest)}', "trap - EXIT"]
        before = f"sha256 {info.sha256}" if info else None
        after = f"{self.url}" + (f" (sha256 {self.sha256})" if self.sha256 else "")
        settles = replace(
            predict(self.dest, info, "file", self.attrs, mode=mode),
            sha256=self.sha256,
            content=None,
            too_big=False,
        )
        return Change(
            (Command("\n".join(lines), env.secrets),),
            (DiffItem(self.dest, before, after),),
            facts_after=settled(self.dest, settles),
        )


_FORMATS = {
    ".tar.gz": "tar.gz",
    ".tgz": "tar.gz",
    ".tar.bz2": "tar.bz2",
    ".tbz2": "tar.bz2",
    ".tar.xz": "tar.xz",
    ".txz": "tar.xz",
    ".tar": "tar",
    ".zip": "zip",
}
_TAR_FLAGS = {"tar.gz": "-xzf", "tar.bz2": "-xjf", "tar.xz": "-xJf", "tar": "-xf"}


def archive_format(name: str, data: bytes | None = None) -> str | None:
    """``tar.gz``, ``tar.bz2``, ``tar.xz``, ``tar`` or ``zip`` from the name (or the bytes)."""
    lower = name.lower()
    for suffix, kind in _FORMATS.items():
        if lower.endswith(suffix):
            return kind
    if data is None:
        return None
    if data[:2] == b"\x1f\x8b":
        return "tar.gz"
    if data[:3] == b"BZh":
        return "tar.bz2"
    if data[:6] == b"\xfd7zXZ\x00":
        return "tar.xz"
    if data[:4] == b"PK\x03\x04":
        return "zip"
    if data[257:262] == b"ustar":
        return "tar"
    return None


def _member_name(name: str) -> str | None:
    clean = posixpath.normpath(name)
    if name.startswith("/") or clean == ".." or clean.startswith("../"):
        raise InputError(f"unsafe archive member {name!r} (absolute or outside dest)")
    return None if clean == "." else clean


def archive_members(data: bytes, kind: str) -> dict[str, str]:
    """The regular files of an archive: member path -> sha256 of its content."""
    members: dict[str, str] = {}
    try:
        if kind == "zip":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for item in archive.infolist():
                    name = _member_name(item.filename)
                    is_link = (item.external_attr >> 16) & 0o170000 == 0o120000
                    if name and not item.is_dir() and not is_link:
                        members[name] = hashlib.sha256(archive.read(item)).hexdigest()
        else:
            with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                for entry in archive:
                    name = _member_name(entry.name)
                    stream = archive.extractfile(entry) if entry.isfile() else None
                    if name and stream is not None:
                        members[name] = hashlib.sha256(stream.read()).hexdigest()
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InputError(f"cannot read the archive ({kind}): {exc}") from None
    return members


def _extract(kind: str, archive: str, dest: str, *, cleanup: bool) -> Command:
    if kind == "zip":
        run = f"unzip -o -q {quote(archive)} -d {quote(dest)}"
    else:
        run = f"tar {_TAR_FLAGS[kind]} {quote(archive)} -C {quote(dest)}"
    if not cleanup:
        return Command(run)
    return Command(
        "\n".join(
            [
                f"trap {quote('rm -f ' + quote(archive))} EXIT",
                run,
                f"rm -f {quote(archive)}",
                "trap - EXIT",
            ]
        )
    )


@dataclass(frozen=True)
class Unarchive(Operation):
    """The archive ``src`` (tar.gz, tgz, tar.bz2, tar.xz, tar, zip) extracted into ``dest``.

    ``src`` is a controller file (uploaded in the same round trip) or, with
    ``remote_src``, a path on the host. No-op when ``creates`` exists; else when
    every file of the archive is already in ``dest`` with the same content.
    """

    src: str
    dest: str
    creates: str | None = None
    remote_src: bool = False

    kind: ClassVar[str] = "files.unarchive"

    def __post_init__(self) -> None:
        if not self.src:
            raise InputError("unarchive: src is required")
        object.__setattr__(self, "dest", check_path(self.dest, "dest"))
        if self.creates is not None:
            object.__setattr__(self, "creates", check_path(self.creates, "creates"))
        if self.remote_src:
            object.__setattr__(self, "src", check_path(self.src, "src"))
            if archive_format(self.src) is None:
                raise InputError(
                    f"unarchive: cannot tell the archive type of {self.src!r} "
                    "(.tar.gz, .tgz, .tar.bz2, .tar.xz, .tar or .zip)"
                )

    def describe(self) -> str:
        return f"unarchive {self.src} -> {self.dest}"

    def facts(self) -> tuple[Fact[Any], ...]:
        if self.creates is not None:
            return (FileState(self.creates),)
        if self.remote_src:
            return (ArchiveInSync(self.src, self.dest),)
        return (TreeDigests(self.dest),)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        if self.creates is not None and facts.get(FileState(self.creates)) is not None:
            return Change.noop(f"{self.creates} exists")
        mkdir = Command.build("mkdir", "-p", self.dest)
        if self.remote_src:
            kind = archive_format(self.src) or "tar"
            if self.creates is None and facts.get(ArchiveInSync(self.src, self.dest)) == "same":
                return Change.noop(f"{self.src} is already extracted in {self.dest}")
            extract = _extract(kind, self.src, self.dest, cleanup=False)
            return Change((mkdir, extract), (DiffItem(self.dest, None, f"extracted {self.src}"),))
        _, data = read_local(env.base_dir, self.src, "unarchive src")
        kind_or_none = archive_format(self.src, data)
        if kind_or_none is None:
            raise InputError(f"unarchive: {self.src!r} is not a tar, tar.gz/bz2/xz or zip archive")
        kind = kind_or_none
        members = archive_members(data, kind)
        before = None
        if self.creates is None:
            present = facts.get(TreeDigests(self.dest))
            if present is not None:
                have = dict(present)
                differ = sorted(n for n, digest in members.items() if have.get(n) != digest)
                if not differ:
                    return Change.noop(f"all {len(members)} files of {self.src} are in {self.dest}")
                shown = ", ".join(differ[:5]) + (", ..." if len(differ) > 5 else "")
                before = f"{len(differ)} of {len(members)} files missing or different: {shown}"
        digest = hashlib.sha256(data).hexdigest()[:16]
        temp = f"{self.dest}/.opsforge-unarchive-{digest}"
        actions: tuple[Action, ...] = (
            mkdir,
            WriteFile(temp, data, mode=0o600),
            _extract(kind, temp, self.dest, cleanup=True),
        )
        after = f"extracted {self.src} ({len(members)} files)"
        return Change(actions, (DiffItem(self.dest, before, after),))
