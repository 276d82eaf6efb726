"""Many :class:`~opsforge.deploy.facts.files.FileState` facts in one command.

A deploy managing forty files asks forty FileState questions. Asked one by one,
each costs a handful of processes on the host (stat, sha256sum, base64...); here
the whole set costs four or five: the classification of every path uses shell
builtins only, then one ``stat`` for every existing path, one ``sha256sum`` for
every readable regular file, one ``cat | base64`` for every content asked for
(split back by the sizes stat reported and checked against the digests).

Output, in order: one ``<kind> <index>`` line per path (``A`` absent, ``F`` readable
file, ``U`` unreadable file, ``D`` directory, ``L`` link, ``O`` other), ``T <index>
<base64 target> <points>`` per link, then ``--stat``, ``--sha`` and ``--content``
sections.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from opsforge.deploy.commands import quote

if TYPE_CHECKING:
    from opsforge.deploy.facts.files import FileInfo, FileState

__all__ = ["batch_command", "batch_parse"]

_TYPES = {0o040000: "directory", 0o100000: "file", 0o120000: "link"}


def _classify(index: int, path: str) -> str:
    p = quote(path)
    return (
        f"if [ -L {p} ]; then echo 'L {index}'; t=$(readlink -- {p} | base64 | tr -d '\\n'); "
        f"if [ -d {p} ]; then w=directory; elif [ -f {p} ]; then w=file; "
        f'elif [ -e {p} ]; then w=other; else w=none; fi; echo "T {index} $t $w"; '
        f"elif [ -d {p} ]; then echo 'D {index}'; "
        f"elif [ -f {p} ]; then if [ -r {p} ]; then echo 'F {index}'; else echo 'U {index}'; fi; "
        f"elif [ -e {p} ]; then echo 'O {index}'; else echo 'A {index}'; fi"
    )


def batch_command(facts: Sequence[FileState], limit: int) -> str:
    """The one command answering every fact (read-only)."""
    lines = ["export LC_ALL=C"]
    lines += [_classify(i, f.path) for i, f in enumerate(facts)]
    exists = "; ".join(
        f'{{ [ -e {quote(f.path)} ] || [ -L {quote(f.path)} ]; }} && set -- "$@" {quote(f.path)}'
        for f in facts
    )
    readable = "; ".join(
        f"{{ [ -f {quote(f.path)} ] && [ ! -L {quote(f.path)} ] && [ -r {quote(f.path)} ]; }} "
        f'&& set -- "$@" {quote(f.path)}'
        for f in facts
    )
    lines += [
        "echo --stat",
        f"set --; {exists}; [ $# -eq 0 ] || stat -c '%f %u %g %s %Y %U %G' -- \"$@\"",
        "echo --sha",
        f'set --; {readable}; [ $# -eq 0 ] || sha256sum -- "$@"',
        "echo --content",
    ]
    wanted = [f for f in facts if f.content]
    if wanted:
        picks = "; ".join(
            f"{{ [ -f {quote(f.path)} ] && [ ! -L {quote(f.path)} ] && [ -r {quote(f.path)} ]; }} "
            f'&& set -- "$@" {quote(f.path)}'
            for f in wanted
        )
        # find keeps the order of its starting points: contents come back in fact order
        lines.append(
            f"set --; {picks}; [ $# -eq 0 ] || "
            f'find "$@" -maxdepth 0 -type f -size -{limit + 1}c -exec cat -- {{}} + | base64'
        )
    return "\n".join(lines)


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"bad base64 data: {exc}") from None


def batch_parse(
    facts: Sequence[FileState], output: str, exit_code: int, limit: int
) -> list[FileInfo | None]:
    from opsforge.deploy.facts.files import FileInfo

    lines = output.split("\n")
    try:
        at_stat, at_sha, at_content = (lines.index(m) for m in ("--stat", "--sha", "--content"))
    except ValueError:
        raise ValueError(f"incomplete batch output (exit {exit_code})") from None
    if exit_code != 0 or not at_stat < at_sha < at_content:
        raise ValueError(f"incomplete batch output (exit {exit_code})")
    head = "\n".join(lines[:at_stat])
    stat_text = "\n".join(lines[at_stat + 1 : at_sha])
    sha_text = "\n".join(lines[at_sha + 1 : at_content])
    content_text = "\n".join(lines[at_content + 1 :])
    kinds: dict[int, str] = {}
    links: dict[int, tuple[str, str]] = {}
    for line in head.splitlines():
        words = line.split()
        if len(words) == 2 and words[1].isdigit():
            kinds[int(words[1])] = words[0]
        elif len(words) == 4 and words[0] == "T":
            links[int(words[1])] = (words[2], words[3])
        elif len(words) == 3 and words[0] == "T":  # empty target
            links[int(words[1])] = ("", words[2])
    if len(kinds) != len(facts):
        raise ValueError("not every path was classified")
    stats = [line.split(" ", 6) for line in stat_text.splitlines() if line]
    shas = [line.lstrip("\\")[:64] for line in sha_text.splitlines() if line]
    existing = [i for i in range(len(facts)) if kinds[i] != "A"]
    readable = [i for i in range(len(facts)) if kinds[i] == "F"]
    if len(stats) != len(existing) or len(shas) != len(readable):
        raise ValueError("files changed while their facts were read; run again")
    stat_of = dict(zip(existing, stats, strict=True))
    sha_of = dict(zip(readable, shas, strict=True))
    blob = _b64(content_text) if content_text.strip() else b""
    results: list[FileInfo | None] = []
    offset = 0
    for index, fact in enumerate(facts):
        if kinds[index] == "A":
            results.append(None)
            continue
        words = stat_of[index]
        if len(words) != 7:
            raise ValueError(f"{fact.path}: bad stat line {' '.join(words)!r}")
        raw_mode = int(words[0], 16)
        uid, gid, size, mtime = (int(w) for w in words[1:5])
        content: bytes | None = None
        too_big = False
        if fact.content and kinds[index] == "F":
            if size <= limit:
                content = blob[offset : offset + size]
                offset += size
                if hashlib.sha256(content).hexdigest() != sha_of[index]:
                    raise ValueError(f"{fact.path} changed while its facts were read; run again")
            else:
                too_big = True
        target = links.get(index)
        results.append(
            FileInfo(
                path=fact.path,
                type=_TYPES.get(raw_mode & 0o170000, "other"),
                mode=raw_mode & 0o7777,
                owner=words[5],
                group=words[6],
                uid=uid,
                gid=gid,
                size=size,
                mtime=mtime,
                sha256=sha_of.get(index),
                link_target=_b64(target[0]).decode("utf-8", "surrogateescape")[:-1]
                if target is not None
                else None,
                content=content,
                too_big=too_big,
                target_type=None if target is None or target[1] == "none" else target[1],
                readable=kinds[index] != "U",
            )
        )
    return results
