"""File facts: what is at a path (stat, sha256, small contents), mode/owner drift under a
tree, digests of the files under a directory, whether a remote archive is extracted.

Every command is read-only POSIX sh using GNU coreutils (busybox works too) and
prints one ``key value`` line per field. A path is never printed back (it is the
fact's argument), and a symlink's target travels base64-encoded, so any name works:
spaces, quotes, newlines, unicode.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from opsforge.deploy.commands import quote
from opsforge.deploy.facts.base import Fact

__all__ = [
    "CONTENT_LIMIT",
    "ArchiveInSync",
    "FileInfo",
    "FileState",
    "TreeDigests",
    "TreeDrift",
    "TreeDriftInfo",
]

#: files up to this size come back with their content when a fact asks for it
CONTENT_LIMIT = 256 * 1024

_TYPES = {0o040000: "directory", 0o100000: "file", 0o120000: "link"}


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What is at a path (``lstat``: a symlink is described, not followed)."""

    path: str
    type: str  # file | directory | link | other
    mode: int  # permission bits, setuid/setgid/sticky included
    owner: str
    group: str
    uid: int
    gid: int
    size: int
    mtime: int
    sha256: str | None = None  # regular files that could be read
    link_target: str | None = None  # links
    content: bytes | None = None  # asked for, a regular file, at most CONTENT_LIMIT bytes
    too_big: bool = False  # content asked for but the file is bigger than CONTENT_LIMIT
    target_type: str | None = None  # links: what the target is (None: dangling)
    readable: bool = True  # False: a file the gathering user may not read

    @property
    def is_file(self) -> bool:
        return self.type == "file"

    @property
    def is_dir(self) -> bool:
        return self.type == "directory"

    @property
    def is_link(self) -> bool:
        return self.type == "link"

    def owner_matches(self, owner: str) -> bool:
        """``owner`` is a user name or a numeric uid."""
        return str(self.uid) == owner if owner.isdigit() else self.owner == owner

    def group_matches(self, group: str) -> bool:
        return str(self.gid) == group if group.isdigit() else self.group == group


_STATE_SCRIPT = """\
p={path}
export LC_ALL=C
if ! s=$(stat -c '%f %u %g %s %Y' -- "$p" 2>&1); then
  case $s in *'No such file'*|*'Not a directory'*) echo absent; exit 0;; esac
  printf 'error %s\\n' "$s"; exit 1
fi
echo "stat $s"
echo "owner $(stat -c %U -- "$p")"
echo "group $(stat -c %G -- "$p")"
if [ -L "$p" ]; then
  echo "target $(readlink -- "$p" | base64 | tr -d '\\n')"
  if [ -d "$p" ]; then echo 'points directory'; elif [ -f "$p" ]; then echo 'points file'
  elif [ -e "$p" ]; then echo 'points other'; fi
elif [ -f "$p" ]; then
  if [ ! -r "$p" ]; then echo unreadable; exit 0; fi
  echo "sha256 $(sha256sum < "$p" | cut -c1-64)"
  if {want}; then
    set -- $s
    if [ "$4" -le {limit} ]; then echo content; base64 < "$p"; else echo too_big; fi
  fi
fi"""


@dataclass(frozen=True, slots=True)
class FileState(Fact[FileInfo | None]):
    """``None`` when nothing is at ``path``; else a :class:`FileInfo` (with the
    content of a small regular file when ``content`` is asked for)."""

    path: str
    content: bool = False

    name: ClassVar[str] = "file"

    def __post_init__(self) -> None:
        if not self.path:
            raise ValueError("FileState needs a path")

    def command(self) -> str:
        want = "true" if self.content else "false"
        return _STATE_SCRIPT.format(path=quote(self.path), want=want, limit=CONTENT_LIMIT)

    @classmethod
    def command_many(cls, facts: Sequence[Fact[Any]]) -> str | None:
        from opsforge.deploy.facts.files_batch import batch_command

        return batch_command([f for f in facts if isinstance(f, FileState)], CONTENT_LIMIT)

    @classmethod
    def parse_many(cls, facts: Sequence[Fact[Any]], output: str, exit_code: int) -> list[Any]:
        from opsforge.deploy.facts.files_batch import batch_parse

        states = [f for f in facts if isinstance(f, FileState)]
        return list(batch_parse(states, output, exit_code, CONTENT_LIMIT))

    def parse(self, output: str, exit_code: int) -> FileInfo | None:
        lines = output.split("\n")
        if lines and lines[0] == "absent":
            return None
        fields: dict[str, str] = {}
        content: bytes | None = None
        for index, line in enumerate(lines):
            key, _, value = line.partition(" ")
            if key == "error":
                raise ValueError(f"{self.path}: {value}")
            if key == "content":
                content = _b64("".join(lines[index + 1 :]))
                break
            if key:
                fields.setdefault(key, value)
        if exit_code != 0 or "stat" not in fields:
            raise ValueError(f"{self.path}: no stat output (exit {exit_code})")
        words = fields["stat"].split()
        if len(words) != 5:
            raise ValueError(f"{self.path}: bad stat line {fields['stat']!r}")
        try:
            raw_mode = int(words[0], 16)
            uid, gid, size, mtime = (int(w) for w in words[1:])
        except ValueError:
            raise ValueError(f"{self.path}: bad stat line {fields['stat']!r}") from None
        kind = _TYPES.get(raw_mode & 0o170000, "other")
        target = fields.get("target")
        return FileInfo(
            path=self.path,
            type=kind,
            mode=raw_mode & 0o7777,
            owner=fields.get("owner", str(uid)),
            group=fields.get("group", str(gid)),
            uid=uid,
            gid=gid,
            size=size,
            mtime=mtime,
            sha256=fields.get("sha256") or None,
            link_target=_b64(target).decode("utf-8", "surrogateescape")[:-1]
            if target is not None
            else None,
            content=content,
            too_big="too_big" in fields,
            target_type=fields.get("points"),
            readable="unreadable" not in fields,
        )


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"bad base64 data: {exc}") from None


@dataclass(frozen=True, slots=True)
class TreeDriftInfo:
    """Paths under a tree (the root included) whose mode / owner-or-group differ;
    at most a few of each, ``?`` when the walk itself failed (an unknown user)."""

    mode: tuple[str, ...] = ()
    owner: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TreeDrift(Fact[TreeDriftInfo]):
    """For recursive mode/owner fix-ups: does anything under ``path`` differ?"""

    path: str
    mode: int | None = None
    owner: str | None = None
    group: str | None = None
    sample: int = 5

    name: ClassVar[str] = "tree drift"

    def command(self) -> str:
        p = quote(self.path)
        parts = ["export LC_ALL=C", f"[ -d {p} ] || exit 0"]
        if self.mode is not None:
            parts.append(_find(p, f"! -perm {self.mode:04o}", "mode", self.sample))
        tests = []
        if self.owner:
            tests.append(f"! -user {quote(self.owner)}")
        if self.group:
            tests.append(f"! -group {quote(self.group)}")
        if tests:
            parts.append(_find(p, "\\( " + " -o ".join(tests) + " \\)", "owner", self.sample))
        return "\n".join(parts)

    def parse(self, output: str, exit_code: int) -> TreeDriftInfo:
        if exit_code != 0:
            raise ValueError(f"exit {exit_code}")
        found: dict[str, list[str]] = {"mode": [], "owner": []}
        for line in output.split("\n"):
            key, _, value = line.partition(" ")
            if key in found and value:
                found[key].append(value)
        return TreeDriftInfo(tuple(found["mode"]), tuple(found["owner"]))


def _find(path: str, test: str, label: str, sample: int) -> str:
    return (
        f"{{ find {path} {test} -print 2>/dev/null || echo '?'; }}"
        f" | head -n {sample} | sed 's/^/{label} /'"
    )


_UNESCAPE = {"n": "\n", "r": "\r"}
_DIGESTS_SCRIPT = """\
cd {path} 2>/dev/null || exit 0
n=$(find . -type f | wc -l)
[ "$n" -le {limit} ] || {{ echo too_many; exit 0; }}
find . -type f -print0 | xargs -0r sha256sum -- || :"""


@dataclass(frozen=True, slots=True)
class TreeDigests(Fact[tuple[tuple[str, str], ...] | None]):
    """sha256 of every regular file under ``path``, as (path relative to it, digest)
    pairs (empty when ``path`` is missing); None when there are more than ``limit``."""

    path: str
    limit: int = 20000

    name: ClassVar[str] = "tree digests"

    def command(self) -> str:
        return _DIGESTS_SCRIPT.format(path=quote(self.path), limit=self.limit)

    def parse(self, output: str, exit_code: int) -> tuple[tuple[str, str], ...] | None:
        if exit_code != 0:
            raise ValueError(f"exit {exit_code}")
        if output.strip() == "too_many":
            return None
        found = []
        for line in output.split("\n"):
            escaped = line.startswith("\\")  # GNU: a name with a newline or backslash
            digest, sep, rest = line.removeprefix("\\").partition("  ")
            if not sep or len(digest) != 64 or not rest.startswith("./"):
                continue
            name = rest[2:]
            if escaped:
                name = re.sub(r"\\(.)", lambda m: _UNESCAPE.get(m[1], m[1]), name)
            found.append((name, digest))
        return tuple(sorted(found))


_ARCHIVE_SCRIPT = """\
a={archive}
d={dest}
export LC_ALL=C
[ -f "$a" ] || {{ echo missing; exit 0; }}
[ -d "$d" ] || {{ echo differs; exit 0; }}
case $a in
*.zip|*.ZIP)
  r=$(unzip -Z1 "$a" 2>&1 | while IFS= read -r n; do
    case $n in */) continue;; esac
    if [ ! -f "$d/$n" ]; then echo x; break; fi
    [ "$(unzip -p "$a" "$n" | sha256sum)" = "$(sha256sum < "$d/$n")" ] || {{ echo x; break; }}
  done) || :
  [ -z "$r" ] && echo same || echo differs;;
*)
  r=$(tar -d -f "$a" -C "$d" 2>&1 | grep -v -E ': (Uid|Gid|Mod time|Mode) differs$') || :
  [ -z "$r" ] && echo same || echo differs;;
esac"""


@dataclass(frozen=True, slots=True)
class ArchiveInSync(Fact[str]):
    """Is the archive at ``archive`` (on the host) extracted into ``dest``?

    ``missing`` (no archive there), ``same`` or ``differs``. Tar archives are
    compared with GNU ``tar --diff`` (contents, sizes, links; not owners, modes
    or times); zip archives member by member with sha256.
    """

    archive: str
    dest: str

    name: ClassVar[str] = "archive in sync"

    def command(self) -> str:
        return _ARCHIVE_SCRIPT.format(archive=quote(self.archive), dest=quote(self.dest))

    def parse(self, output: str, exit_code: int) -> str:
        word = output.strip().split("\n")[-1] if output.strip() else ""
        if exit_code != 0 or word not in {"missing", "same", "differs"}:
            raise ValueError(f"exit {exit_code}")
        return word
