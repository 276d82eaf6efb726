"""File modules: file, copy, template, lineinfile, blockinfile, replace, get_url,
unarchive — each maps onto the deploy file operations (Ansible's defaults kept:
``create`` is False for lineinfile/blockinfile, markers say ANSIBLE MANAGED)."""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.files import FileState
from opsforge.deploy.operation import Change, Operation, PlanEnv
from opsforge.deploy.operations.files import (
    Block,
    Copy,
    Directory,
    Download,
    File,
    Line,
    Link,
    Remove,
    Replace,
    Template,
    Unarchive,
)
from opsforge.deploy.operations.files_attrs import Attrs
from opsforge.deploy.operations.files_content import RemoteCopy
from opsforge.deploy.operations.files_ini import Ini
from opsforge.deploy.playbook.args import as_bool, as_str, opt_str
from opsforge.deploy.playbook.modules import (
    BuildEnv,
    ModuleCall,
    ModuleSpec,
    OpCall,
    register_module,
)
from opsforge.errors import InputError, PlanError
from opsforge.types import Secret

__all__: list[str] = []

_ATTRS = frozenset({"mode", "owner", "group"})
_PATH_ALIASES = {"dest": "path", "name": "path", "destfile": "path"}
_IGNORED = frozenset({"unsafe_writes", "attributes", "seuser", "serole", "setype", "selevel"})


def _attrs(args: dict[str, Any]) -> Attrs:
    return Attrs.of(args.get("mode"), args.get("owner"), args.get("group"))


@dataclass
class _FileAuto(ModuleCall):
    """``file`` without a state: keep what is at the path (Ansible's default), fix attrs."""

    path: str
    attrs: Attrs
    recurse: bool = False
    chosen: Operation | None = field(default=None, init=False)

    def describe(self) -> str:
        return f"file {self.path}"

    def facts(self) -> tuple[Fact[Any], ...]:
        return (FileState(self.path),)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        info = facts.get(FileState(self.path))
        if info is None:
            raise PlanError(f"file {self.path} is absent, cannot continue", host=env.host)
        if info.is_dir:
            self.chosen = Directory(self.path, attrs=self.attrs, recursive=self.recurse)
        else:
            self.chosen = File(self.path, attrs=self.attrs)
        for fact in self.chosen.facts():
            if not facts.has(fact):  # a recursive drift fact: not gathered, plan without it
                self.chosen = File(self.path, attrs=self.attrs) if not info.is_dir else \
                    Directory(self.path, attrs=self.attrs)  # fmt: skip
        return self.chosen.plan(facts, env)

    def op(self) -> Operation | None:
        return self.chosen


def _file(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    path = as_str(args["path"], "path")
    state = opt_str(args.get("state"))
    recurse = as_bool(args.get("recurse"), "recurse")
    attrs = _attrs(args)
    extra = {"path": path}
    if state is None and recurse:
        state = "directory"
    if state is None and args.get("src") is not None:
        state = "link"
    if state is None:
        return [_FileAuto(path, attrs, recurse)]
    extra["state"] = state
    if state in ("file", "touch"):
        return [OpCall(File(path, touch=state == "touch", attrs=attrs), extra)]
    if state == "absent":
        return [OpCall(Remove(path), extra)]
    if state == "directory":
        return [OpCall(Directory(path, attrs=attrs, recursive=recurse), extra)]
    if state == "link":
        src = as_str(args.get("src") or "", "src")
        force = as_bool(args.get("force"), "force")
        link = Link(path, src, force=force, attrs=Attrs.of(None, args.get("owner"),
                                                         args.get("group")))  # fmt: skip
        return [OpCall(link, extra)]
    if state == "hard":
        raise InputError("file: state=hard (hard links) is not supported yet")
    raise InputError(f"file: unknown state {state!r} (file, directory, link, touch, absent)")


def _content_bytes(value: Any) -> bytes | Secret:
    if isinstance(value, Secret):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, indent=4).encode()
    if isinstance(value, bool | int | float):
        return str(value).encode()
    return str(value).encode("utf-8")


def _copy(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    dest = as_str(args["dest"], "dest")
    attrs = _attrs(args)
    backup = as_bool(args.get("backup"), "backup")
    force = as_bool(args.get("force"), "force", default=True)
    validate = opt_str(args.get("validate"), "validate")
    if as_bool(args.get("remote_src"), "remote_src"):
        if args.get("src") is None or args.get("content") is not None:
            raise InputError("copy: remote_src needs src (a file on the host)")
        src = as_str(args["src"], "src")
        remote = RemoteCopy(src, dest, attrs=attrs, backup=backup, force=force)
        return [OpCall(remote, {"dest": remote.dest, "src": src})]
    if args.get("content") is not None:
        if args.get("src") is not None:
            raise InputError("copy: src and content exclude each other")
        data = _content_bytes(args["content"])
        op = Copy(dest, content=data, attrs=attrs, backup=backup, force=force, validate=validate)
        return [OpCall(op, {"dest": dest})]
    if args.get("src") is None:
        raise InputError("copy: give src or content")
    name = as_str(args["src"], "src")
    src = env.find(name, "files", "copy src")
    if not os.path.isdir(src):
        op = Copy(dest, src=src, attrs=attrs, backup=backup, force=force, validate=validate)
        return [OpCall(op, {"dest": op.dest, "src": src})]
    root = dest.rstrip("/") or "/"
    if not name.endswith("/"):
        root = posixpath.join(root, os.path.basename(src.rstrip("/")))
    dir_attrs = Attrs.of(args.get("directory_mode"), args.get("owner"), args.get("group"))
    calls: list[ModuleCall] = [OpCall(Directory(root, attrs=dir_attrs))]
    for current, dirs, files in os.walk(src):
        dirs.sort()
        rel = os.path.relpath(current, src)
        target = root if rel == "." else posixpath.join(root, rel.replace(os.sep, "/"))
        for sub in dirs:
            calls.append(OpCall(Directory(posixpath.join(target, sub), attrs=dir_attrs)))
        for file in sorted(files):
            op = Copy(posixpath.join(target, file), src=os.path.join(current, file), attrs=attrs,
                      backup=backup, force=force, validate=validate)  # fmt: skip
            calls.append(OpCall(op, {"dest": root}))
    return calls


def _template(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    src = env.find(as_str(args["src"], "src"), "templates", "template")
    dest = as_str(args["dest"], "dest")
    op = Template(src, dest, _attrs(args), (), as_bool(args.get("backup"), "backup"),
                  as_bool(args.get("force"), "force", default=True),
                  opt_str(args.get("validate"), "validate"))  # fmt: skip
    return [OpCall(op, {"dest": op.dest, "src": src})]


def _lineinfile(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    path = as_str(args["path"], "path")
    present = (opt_str(args.get("state")) or "present") != "absent"
    line = opt_str(args.get("line"), "line")
    op = Line(
        path,
        _attrs(args),
        as_bool(args.get("backup"), "backup"),
        opt_str(args.get("validate"), "validate"),
        line=line,
        regexp=opt_str(args.get("regexp"), "regexp"),
        search_string=opt_str(args.get("search_string"), "search_string"),
        present=present,
        insertafter=opt_str(args.get("insertafter")),
        insertbefore=opt_str(args.get("insertbefore")),
        backrefs=as_bool(args.get("backrefs"), "backrefs"),
        firstmatch=as_bool(args.get("firstmatch"), "firstmatch"),
        create=as_bool(args.get("create"), "create"),
    )
    return [OpCall(op, {"path": path})]


def _blockinfile(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    path = as_str(args["path"], "path")
    block = args.get("block")
    op = Block(
        path,
        _attrs(args),
        as_bool(args.get("backup"), "backup"),
        opt_str(args.get("validate"), "validate"),
        block="" if block is None else as_str(block, "block"),
        marker=opt_str(args.get("marker")) or "# {mark} ANSIBLE MANAGED BLOCK",
        marker_begin=opt_str(args.get("marker_begin")) or "BEGIN",
        marker_end=opt_str(args.get("marker_end")) or "END",
        present=(opt_str(args.get("state")) or "present") != "absent",
        insertafter=opt_str(args.get("insertafter")),
        insertbefore=opt_str(args.get("insertbefore")),
        create=as_bool(args.get("create"), "create"),
    )
    return [OpCall(op, {"path": path})]


def _replace(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    path = as_str(args["path"], "path")
    op = Replace(
        path,
        _attrs(args),
        as_bool(args.get("backup"), "backup"),
        opt_str(args.get("validate"), "validate"),
        regexp=as_str(args["regexp"], "regexp"),
        replace=opt_str(args.get("replace")) or "",
        after=opt_str(args.get("after")),
        before=opt_str(args.get("before")),
    )
    return [OpCall(op, {"path": path})]


def _ini_file(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    path = as_str(args["path"], "path")
    value = args.get("value")
    values = args.get("values")
    if values is not None:
        if not isinstance(values, list) or len(values) > 1:
            raise InputError("ini_file: values with more than one value is not supported yet")
        value = values[0] if values else None
    if isinstance(value, bool):
        value = "true" if value else "false"
    op = Ini(
        path,
        _attrs(args),
        as_bool(args.get("backup"), "backup"),
        None,
        section=opt_str(args.get("section"), "section"),
        option=opt_str(args.get("option"), "option"),
        value=None if value is None else str(value),
        present=(opt_str(args.get("state")) or "present") != "absent",
        no_extra_spaces=as_bool(args.get("no_extra_spaces"), "no_extra_spaces"),
        allow_no_value=as_bool(args.get("allow_no_value"), "allow_no_value"),
        exclusive=as_bool(args.get("exclusive"), "exclusive", default=True),
        create=as_bool(args.get("create"), "create", default=True),
    )
    return [OpCall(op, {"path": path})]


def _get_url(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    url = as_str(args["url"], "url")
    dest = as_str(args["dest"], "dest")
    if dest.endswith("/"):
        dest += posixpath.basename(url.split("?")[0].rstrip("/")) or "index.html"
    checksum = opt_str(args.get("checksum"))
    sha256 = None
    if checksum:
        algo, _, digest = checksum.partition(":")
        if algo.lower() != "sha256" or not digest:
            raise InputError("get_url: only 'sha256:<hex>' checksums are supported yet")
        sha256 = digest
    op = Download(url, dest, sha256, _attrs(args), as_bool(args.get("force"), "force"))
    call = OpCall(op, {"dest": dest, "url": url})
    call.opaque = True
    return [call]


def _unarchive(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    src = as_str(args["src"], "src")
    remote = as_bool(args.get("remote_src"), "remote_src")
    if args.get("copy") is not None and not as_bool(args["copy"], "copy"):
        remote = True
    if "://" in src:
        raise InputError("unarchive: a URL src is not supported yet (get_url it first)")
    if not remote:
        src = env.find(src, "files", "unarchive src")
    op = Unarchive(src, as_str(args["dest"], "dest"), opt_str(args.get("creates")), remote)
    call = OpCall(op, {"dest": op.dest, "src": src})
    call.opaque = True
    return [call]


_FILE_PARAMS = _ATTRS | _IGNORED | {"path", "state", "src", "force", "recurse", "follow",
                                    "access_time", "modification_time", "access_time_format",
                                    "modification_time_format"}  # fmt: skip
register_module(ModuleSpec("file", frozenset(_FILE_PARAMS), _file,
                           aliases={**_PATH_ALIASES, "attr": "attributes"},
                           required=("path",)))  # fmt: skip
register_module(ModuleSpec(
    "copy",
    frozenset(_ATTRS | _IGNORED | {"src", "dest", "content", "backup", "force", "remote_src",
                                   "directory_mode", "follow", "local_follow", "decrypt",
                                   "checksum", "validate"}),
    _copy, required=("dest",),
))  # fmt: skip
register_module(ModuleSpec(
    "template",
    frozenset(_ATTRS | _IGNORED | {"src", "dest", "backup", "force", "follow",
                                   "output_encoding", "validate"}),
    _template, required=("src", "dest"),
    unsupported={k: "not supported yet (opsforge renders with trim_blocks and the default "
                    "delimiters)" for k in ("newline_sequence", "lstrip_blocks", "trim_blocks",
                    "variable_start_string", "variable_end_string", "block_start_string",
                    "block_end_string", "comment_start_string", "comment_end_string")},
))  # fmt: skip
register_module(ModuleSpec(
    "lineinfile",
    frozenset(_ATTRS | _IGNORED | {"path", "line", "regexp", "search_string", "state",
                                   "insertafter", "insertbefore", "backrefs", "firstmatch",
                                   "create", "backup", "follow", "validate"}),
    _lineinfile, aliases={**_PATH_ALIASES, "regex": "regexp", "value": "line"},
    required=("path",),
))  # fmt: skip
register_module(ModuleSpec(
    "blockinfile",
    frozenset(_ATTRS | _IGNORED | {"path", "block", "marker", "marker_begin", "marker_end",
                                   "state", "insertafter", "insertbefore", "create", "backup",
                                   "follow", "validate"}),
    _blockinfile, aliases={**_PATH_ALIASES, "content": "block"}, required=("path",),
    unsupported={"append_newline": "not supported yet", "prepend_newline": "not supported yet"},
))  # fmt: skip
register_module(ModuleSpec(
    "replace",
    frozenset(_ATTRS | _IGNORED | {"path", "regexp", "replace", "after", "before", "backup",
                                   "encoding", "follow", "validate"}),
    _replace, aliases=_PATH_ALIASES, required=("path", "regexp"),
))  # fmt: skip
register_module(ModuleSpec(
    "ini_file",
    frozenset(_ATTRS | _IGNORED | {"path", "section", "option", "value", "values", "state",
                                   "no_extra_spaces", "allow_no_value", "exclusive", "create",
                                   "backup", "follow"}),
    _ini_file, aliases=_PATH_ALIASES, required=("path",),
    unsupported={k: "not supported yet" for k in ("ignore_spaces", "modify_inactive_option",
                 "section_has_values")},
))  # fmt: skip
register_module(ModuleSpec(
    "get_url",
    frozenset(_ATTRS | _IGNORED | {"url", "dest", "checksum", "force", "timeout",
                                   "validate_certs", "use_proxy", "tmp_dest"}),
    _get_url, required=("url", "dest"),
    unsupported={k: "not supported yet" for k in ("headers", "url_username", "url_password",
                 "force_basic_auth", "client_cert", "client_key", "sha256sum")},
))  # fmt: skip
register_module(ModuleSpec(
    "unarchive",
    frozenset(_IGNORED | {"src", "dest", "remote_src", "creates", "copy", "list_files",
                          "validate_certs"}),
    _unarchive, required=("src", "dest"),
    unsupported={k: "not supported yet" for k in ("mode", "owner", "group", "extra_opts",
                 "exclude", "include", "keep_newer")},
))  # fmt: skip
