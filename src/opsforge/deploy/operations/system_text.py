"""Small system text files (``/etc/fstab``, ``/etc/hostname``, sysctl.d files) rewritten
whole: read with FileState (content), written atomically with their mode and owner kept,
and predicted for later operations of the same run."""

from __future__ import annotations

from typing import Any

from opsforge.deploy.commands import WriteFile
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.files import FileInfo, FileState
from opsforge.deploy.operation import DiffItem, PlanEnv
from opsforge.deploy.operations.files_attrs import Attrs, predict, settled
from opsforge.errors import PlanError

__all__ = ["read_text", "rewrite"]


def read_text(facts: FactCache, path: str, env: PlanEnv, what: str) -> tuple[FileInfo | None, str]:
    """The file's state and its text ("" when missing); PlanError when it is not a
    readable, small regular text file."""
    info = facts.get(FileState(path, content=True))
    if info is None:
        return None, ""
    if not info.is_file:
        raise PlanError(f"{what}: {path} is a {info.type}, not a regular file", host=env.host)
    if info.too_big or info.content is None:
        raise PlanError(f"{what}: {path} is too big or unreadable", host=env.host)
    try:
        return info, info.content.decode("utf-8")
    except UnicodeDecodeError:
        raise PlanError(f"{what}: {path} is not UTF-8 text", host=env.host) from None


def rewrite(
    path: str, info: FileInfo | None, old: str, new: str
) -> tuple[WriteFile, DiffItem, tuple[tuple[Fact[Any], Any], ...]]:
    """The write (mode kept, 0644 for a new file; a non-root owner kept), its content
    diff and the predicted FileState facts."""
    data = new.encode()
    mode = info.mode if info is not None else 0o644
    owner = group = None
    if info is not None and (info.owner != "root" or info.group != "root"):
        owner, group = info.owner, info.group
    write = WriteFile(path, data, mode, owner, group)
    after = predict(path, info, "file", Attrs(), data=data, mode=mode)
    return (
        write,
        DiffItem(path, old if info is not None else None, new, content=True),
        settled(path, after),
    )
