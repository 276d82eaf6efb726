"""Modules that read the host: stat, slurp, fetch. Their results come from facts
(gathered with every other fact of the batch) and are known when the task is planned."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.files import CONTENT_LIMIT, FileInfo, FileState
from opsforge.deploy.operation import Change, DiffItem, PlanEnv
from opsforge.deploy.playbook.args import as_bool, as_str, opt_str
from opsforge.deploy.playbook.modules import (
    BuildEnv,
    ModuleCall,
    ModuleSpec,
    Output,
    register_module,  # fmt: skip
)
from opsforge.errors import InputError, PlanError

__all__ = ["stat_result"]


def stat_result(path: str, info: FileInfo | None, *, checksum: bool) -> dict[str, Any]:
    """Ansible's ``stat`` dictionary for what is at ``path``."""
    if info is None:
        return {"exists": False}
    mode = info.mode
    out: dict[str, Any] = {
        "exists": True,
        "path": path,
        "mode": f"{mode:04o}",
        "isdir": info.is_dir,
        "isreg": info.is_file,
        "islnk": info.is_link,
        "uid": info.uid,
        "gid": info.gid,
        "pw_name": info.owner,
        "gr_name": info.group,
        "size": info.size,
        "mtime": info.mtime,
        "readable": info.readable,
        "rusr": bool(mode & 0o400), "wusr": bool(mode & 0o200), "xusr": bool(mode & 0o100),
        "rgrp": bool(mode & 0o040), "wgrp": bool(mode & 0o020), "xgrp": bool(mode & 0o010),
        "roth": bool(mode & 0o004), "woth": bool(mode & 0o002), "xoth": bool(mode & 0o001),
        "isuid": bool(mode & 0o4000), "isgid": bool(mode & 0o2000),
        "executable": bool(mode & 0o111) and info.is_file,
    }  # fmt: skip
    if info.is_link:
        out["lnk_source"] = info.link_target
        out["lnk_target"] = info.link_target
    if checksum and info.sha256:
        out["checksum"] = info.sha256
    return out


@dataclass
class InfoCall(ModuleCall):
    """A call whose whole result is read from facts at plan time."""

    info = True
    value: dict[str, Any] = field(default_factory=dict, init=False)

    def result(self, change: Change, output: Output | None) -> dict[str, Any] | None:
        return {"changed": False, "failed": False, **self.value}


@dataclass
class StatCall(InfoCall):
    path: str = ""
    checksum: bool = False

    def describe(self) -> str:
        return f"stat {self.path}"

    def facts(self) -> tuple[Fact[Any], ...]:
        return (FileState(self.path),)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        info = facts.get(FileState(self.path))
        self.value = {"stat": stat_result(self.path, info, checksum=self.checksum)}
        return Change.noop("read")


@dataclass
class SlurpCall(InfoCall):
    path: str = ""

    def describe(self) -> str:
        return f"slurp {self.path}"

    def facts(self) -> tuple[Fact[Any], ...]:
        return (FileState(self.path, content=True),)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        info = facts.get(FileState(self.path, content=True))
        content = _content(info, self.path, env, "slurp")
        self.value = {"content": base64.b64encode(content).decode(), "encoding": "base64",
                      "source": self.path}  # fmt: skip
        return Change.noop("read")


def _content(info: FileInfo | None, path: str, env: PlanEnv, what: str) -> bytes:
    if info is None:
        raise PlanError(f"{what}: file not found: {path}", host=env.host)
    if not info.is_file and not (info.is_link and info.target_type == "file"):
        raise PlanError(f"{what}: {path} is a {info.type}, not a file", host=env.host)
    if not info.readable:
        raise PlanError(f"{what}: cannot read {path}: permission denied (use become)",
                        host=env.host)  # fmt: skip
    if info.content is None:
        if info.too_big:
            raise PlanError(f"{what}: {path} is bigger than {CONTENT_LIMIT // 1024} KiB "
                            "(not supported yet)", host=env.host)  # fmt: skip
        raise PlanError(f"{what}: the content of {path} is not known", host=env.host)
    return info.content


@dataclass
class FetchCall(InfoCall):
    src: str = ""
    dest: str = ""
    fail_on_missing: bool = True
    check_mode: bool = False

    def describe(self) -> str:
        return f"fetch {self.src} -> {self.dest}"

    def facts(self) -> tuple[Fact[Any], ...]:
        return (FileState(self.src, content=True),)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        info = facts.get(FileState(self.src, content=True))
        if info is None and not self.fail_on_missing:
            self.value = {
                "file": self.src,
                "msg": "the remote file does not exist, not transferring, ignored",
            }
            return Change.noop("remote file missing")
        data = _content(info, self.src, env, "fetch")
        try:
            with open(self.dest, "rb") as fh:
                current: bytes | None = fh.read()
        except OSError:
            current = None
        digest = hashlib.sha1(data).hexdigest()
        self.value = {"dest": self.dest, "file": self.src, "checksum": digest}
        if current == data:
            return Change.noop(f"{self.dest} is up to date")
        if not self.check_mode:
            os.makedirs(os.path.dirname(self.dest) or ".", exist_ok=True)
            temp = f"{self.dest}.opsforge-tmp"
            with open(temp, "wb") as fh:
                fh.write(data)
            os.replace(temp, self.dest)
        self.changed = True
        return Change.noop(f"fetched to {self.dest}")

    changed: bool = False

    def result(self, change: Change, output: Output | None) -> dict[str, Any] | None:
        return {"changed": self.changed, "failed": False, **self.value}

    def diff(self) -> tuple[DiffItem, ...]:
        return (DiffItem(self.dest, None, f"fetched from {self.src}"),) if self.changed else ()


def _stat(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    algo = (opt_str(args.get("checksum_algorithm")) or "sha1").lower()
    want = as_bool(args.get("get_checksum"), "get_checksum", default=True) and algo == "sha256"
    return [StatCall(path=as_str(args["path"], "path"), checksum=want)]


def _slurp(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    return [SlurpCall(path=as_str(args["src"], "src"))]


def _fetch(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    src = as_str(args["src"], "src")
    dest = os.path.expanduser(as_str(args["dest"], "dest"))
    if not os.path.isabs(dest):
        dest = os.path.join(env.search_dirs[-1], dest)
    if as_bool(args.get("flat"), "flat"):
        if dest.endswith("/"):
            dest = os.path.join(dest, os.path.basename(src))
    else:
        dest = os.path.join(dest, env.host, src.lstrip("/"))
    fail = as_bool(args.get("fail_on_missing"), "fail_on_missing", default=True)
    if not src.startswith("/"):
        raise InputError(f"fetch: src must be an absolute path, got {src!r}")
    return [FetchCall(src=src, dest=os.path.normpath(dest), fail_on_missing=fail,
                      check_mode=env.check_mode)]  # fmt: skip


register_module(ModuleSpec("stat", frozenset({"path", "follow", "get_checksum",
                                              "checksum_algorithm", "get_mime",
                                              "get_attributes", "get_md5"}),
                           _stat, aliases={"dest": "path", "name": "path",
                                           "checksum": "checksum_algorithm",
                                           "checksum_algo": "checksum_algorithm"},
                           required=("path",)))  # fmt: skip
register_module(ModuleSpec("slurp", frozenset({"src"}), _slurp, aliases={"path": "src"},
                           required=("src",)))  # fmt: skip
register_module(ModuleSpec("fetch", frozenset({"src", "dest", "flat", "fail_on_missing",
                                               "validate_checksum"}), _fetch,
                           required=("src", "dest")))  # fmt: skip
