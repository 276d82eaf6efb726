"""Whole-file contents: copy from the controller (or given inline) and Jinja2 templates.

The new bytes are compared with the host's sha256; an atomic write (temp + rename)
happens only when they differ, and a mode/owner fix-up alone when only those do.
A replaced file keeps its mode, owner and group unless new ones are given.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from opsforge.deploy.commands import Action, Command, WriteFile, mask, quote
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.files import CONTENT_LIMIT, FileInfo, FileState
from opsforge.deploy.operation import Change, DiffItem, Operation, PlanEnv, TemplateRenderer
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
from opsforge.errors import InputError
from opsforge.types import Secret

__all__ = ["Copy", "Template", "backup_command", "content_diff", "plan_content", "read_local"]


def backup_command(path: str) -> Command:
    """``cp -p`` the current file to ``PATH.<date>@<time>~`` (Ansible's backup naming)."""
    return Command(f'cp -p {quote(path)} {quote(path)}."$(date +%Y-%m-%d@%H:%M:%S)"~')


def _text(data: bytes | None) -> str | None:
    if data is None or len(data) > CONTENT_LIMIT or b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def content_diff(
    path: str, info: FileInfo | None, after: bytes, secrets: Iterable[Secret]
) -> DiffItem:
    """A unified-diff item when both sides are small text; else the two sha256s."""
    secrets = tuple(secrets)
    before_bytes = info.content if info is not None and info.is_file else None
    after_text = _text(after)
    before_text = _text(before_bytes)
    new = info is None or not info.is_file
    if after_text is not None and (new or before_text is not None):
        before = None if new or before_text is None else mask(before_text, secrets)
        return DiffItem(path, before, mask(after_text, secrets), content=True)
    after_sum = f"sha256 {hashlib.sha256(after).hexdigest()} ({len(after)} bytes)"
    before_sum = (
        f"sha256 {info.sha256} ({info.size} bytes)" if info is not None and info.is_file else None
    )
    return DiffItem(f"{path} (binary or too big for a text diff)", before_sum, after_sum)


def plan_content(
    path: str,
    data: bytes,
    info: FileInfo | None,
    attrs: Attrs,
    env: PlanEnv,
    facts: FactCache,
    *,
    backup: bool = False,
    force: bool = True,
    secrets: tuple[Secret, ...] = (),
    validate: str | None = None,
) -> Change:
    """Make the file at ``path`` hold ``data`` with ``attrs`` (shared by copy, template
    and the edits); ``validate`` must accept new content before it is renamed in place."""
    secrets = env.secrets + secrets
    if info is not None and info.type in {"directory", "other"}:
        raise refuse(env, f"{path} is a {info.type}, not a regular file")
    if info is not None and info.is_file:
        if not info.readable:
            raise refuse(env, f"cannot read {path}: permission denied (use become)")
        if not force:
            return Change.noop(f"{path} exists (force=False: its content is left alone)")
        if info.sha256 == hashlib.sha256(data).hexdigest():
            fix, fix_diff = attrs.fixups(path, info, is_dir=False)
            if not fix:
                return Change.noop(f"{path} is up to date ({describe_info(info)})")
            fixed_facts = fixed(path, facts, "file", attrs)
            return Change(tuple(fix), tuple(fix_diff), facts_after=fixed_facts)
    existing = info if info is not None and info.is_file else None
    mode = attrs.desired_mode(existing, is_dir=False)
    if mode is None:
        mode = existing.mode if existing else DEFAULT_FILE_MODE
    # keep the replaced file's owner (ids; -1: a file this run creates, owner unknown yet)
    owner = attrs.owner or (str(existing.uid) if existing and existing.uid >= 0 else None)
    group = attrs.group or (str(existing.gid) if existing and existing.gid >= 0 else None)
    write = WriteFile(
        path, data, mode=mode, owner=owner, group=group, secrets=secrets, validate=validate
    )
    actions: list[Action] = [write]
    diff = [content_diff(path, info, data, secrets)]
    if info is not None and info.is_link:
        diff.insert(0, DiffItem(path, f"symlink -> {info.link_target}", "file"))
    if backup and existing:
        actions.insert(0, backup_command(path))
    if existing and existing.mode != mode:
        diff.append(DiffItem("mode", f"{existing.mode:04o}", f"{mode:04o}"))
    after = predict(path, existing, "file", attrs, data=data, mode=mode)
    return Change(tuple(actions), tuple(diff), facts_after=settled(path, after))


def check_validate(validate: str | None) -> None:
    """``validate`` names the new file with ``%s`` (else it would check the old one)."""
    if validate is not None and "%s" not in validate:
        raise InputError(f"validate must contain %s (the new file), got {validate!r}")


def read_local(base_dir: str, src: str, what: str) -> tuple[str, bytes]:
    """A controller file (relative to the deploy's directory, or its ``files/`` like
    Ansible): its full path and bytes."""
    full = os.path.join(base_dir, src)
    beside = os.path.join(base_dir, "files", src)
    if not os.path.exists(full) and os.path.exists(beside):
        full = beside
    if os.path.isdir(full):
        raise InputError(f"{what} {src!r} is a directory (only single files are supported)")
    try:
        with open(full, "rb") as fh:
            return full, fh.read()
    except FileNotFoundError:
        raise InputError(f"{what} {src!r} not found (looked for {full})") from None
    except OSError as exc:
        raise InputError(f"{what} {src!r}: {exc.strerror}") from None


def _dest(dest: str, src: str | None) -> str:
    if isinstance(dest, str) and dest.endswith("/") and dest != "/":
        if not src:
            raise InputError(f"dest {dest!r} ends with '/': name the file")
        dest = dest + posixpath.basename(src.rstrip("/"))
    return check_path(dest, "dest")


@dataclass(frozen=True)
class Copy(Operation):
    """``dest`` holds the bytes of controller file ``src`` (or ``content``)."""

    dest: str
    src: str | None = None
    content: bytes | Secret | None = None
    attrs: Attrs = field(default_factory=Attrs)
    backup: bool = False
    force: bool = True
    validate: str | None = None

    kind: ClassVar[str] = "files.copy"

    def __post_init__(self) -> None:
        check_validate(self.validate)
        if (self.src is None) == (self.content is None):
            raise InputError("copy needs exactly one of src and content")
        if self.src is not None and not self.src:
            raise InputError("copy: src is empty")
        object.__setattr__(self, "dest", _dest(self.dest, self.src))

    def describe(self) -> str:
        return f"copy {self.src or 'content'} -> {self.dest}"

    def facts(self) -> tuple[Fact[Any], ...]:
        return (FileState(self.dest, content=True),)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        secrets: tuple[Secret, ...] = ()
        if isinstance(self.content, Secret):
            secrets = (self.content,)
            data = self.content.reveal().encode()
        elif self.content is not None:
            data = self.content
        else:
            _, data = read_local(env.base_dir, self.src or "", "src")
        info = facts.get(FileState(self.dest, content=True))
        return plan_content(
            self.dest,
            data,
            info,
            self.attrs,
            env,
            facts,
            backup=self.backup,
            force=self.force,
            secrets=secrets,
            validate=self.validate,
        )


@dataclass(frozen=True)
class Template(Operation):
    """``dest`` holds Jinja2 template ``src`` rendered with the host's variables."""

    src: str
    dest: str
    attrs: Attrs = field(default_factory=Attrs)
    variables: tuple[tuple[str, Any], ...] = ()
    backup: bool = False
    force: bool = True
    validate: str | None = None

    kind: ClassVar[str] = "files.template"

    def __hash__(self) -> int:  # variables may hold lists and dicts
        return hash((self.kind, self.src, self.dest))

    def __post_init__(self) -> None:
        check_validate(self.validate)
        if not self.src:
            raise InputError("template: src is required")
        object.__setattr__(self, "dest", _dest(self.dest, self.src.removesuffix(".j2")))

    def describe(self) -> str:
        return f"template {self.src} -> {self.dest}"

    def facts(self) -> tuple[Fact[Any], ...]:
        return (FileState(self.dest, content=True),)

    def wants_system_facts(self, templates: TemplateRenderer) -> bool:
        names = templates.referenced_names(self.src)
        return any(name.startswith("ansible_") for name in names)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        # the renderer resolves src: absolute, or under the deploy's dir (and its templates/)
        text = env.templates.render_file(self.src, {**env.variables, **dict(self.variables)})
        info = facts.get(FileState(self.dest, content=True))
        return plan_content(
            self.dest,
            text.encode("utf-8"),
            info,
            self.attrs,
            env,
            facts,
            backup=self.backup,
            force=self.force,
            validate=self.validate,
        )


@dataclass(frozen=True)
class RemoteCopy(Operation):
    """``dest`` holds a copy of ``src``, a file on the host itself (Ansible's
    ``remote_src``): compared by sha256, copied to a temp file next to ``dest`` and
    renamed over it."""

    src: str
    dest: str
    attrs: Attrs = field(default_factory=Attrs)
    backup: bool = False
    force: bool = True

    kind: ClassVar[str] = "files.remote_copy"

    def __post_init__(self) -> None:
        check_path(self.src, "src")
        object.__setattr__(self, "dest", _dest(self.dest, self.src))

    def describe(self) -> str:
        return f"copy (on the host) {self.src} -> {self.dest}"

    def facts(self) -> tuple[Fact[Any], ...]:
        return (FileState(self.src), FileState(self.dest))

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        source = facts.get(FileState(self.src))
        if source is None:
            raise refuse(env, f"copy: remote src {self.src} not found")
        if source.is_link and source.target_type == "file":
            pass  # cp follows it, like Ansible
        elif not source.is_file:
            raise refuse(env, f"copy: remote src {self.src} is a {source.type} (only files)")
        if not source.readable:
            raise refuse(env, f"cannot read {self.src}: permission denied (use become)")
        info = facts.get(FileState(self.dest))
        if info is not None and info.type in {"directory", "other"}:
            raise refuse(env, f"{self.dest} is a {info.type}, not a regular file")
        existing = info if info is not None and info.is_file else None
        if existing is not None and not self.force:
            return Change.noop(f"{self.dest} exists (force=False: its content is left alone)")
        if existing is not None and existing.sha256 == source.sha256:
            fix, fix_diff = self.attrs.fixups(self.dest, existing, is_dir=False)
            if not fix:
                return Change.noop(f"{self.dest} is up to date ({describe_info(existing)})")
            return Change(tuple(fix), tuple(fix_diff),
                          facts_after=fixed(self.dest, facts, "file", self.attrs))  # fmt: skip
        mode = self.attrs.desired_mode(existing, is_dir=False)
        if mode is None:
            mode = existing.mode if existing else DEFAULT_FILE_MODE
        head, _, name = self.dest.rpartition("/")
        temp = quote(f"{head}/.{name}.opsforge-cp")
        steps = [f'cp -- {quote(self.src)} "$t"', f'chmod {mode:04o} "$t"']
        if self.attrs.owner or self.attrs.group:
            who = f"{self.attrs.owner or ''}:{self.attrs.group or ''}".rstrip(":")
            steps.append(f'chown {quote(who)} "$t"')
        elif existing is not None and existing.uid >= 0:
            steps.append(f'chown {existing.uid}:{existing.gid} "$t"')
        steps.append(f'mv -f "$t" {quote(self.dest)}')
        body = f"t={temp}$$; trap 'rm -f \"$t\"' EXIT; " + " && ".join(steps) + "; trap - EXIT"
        actions: list[Action] = [Command(body)]
        if self.backup and existing:
            actions.insert(0, backup_command(self.dest))
        before = f"sha256 {existing.sha256} ({existing.size} bytes)" if existing else None
        after_sum = f"sha256 {source.sha256} ({source.size} bytes) from {self.src}"
        diff = [DiffItem(self.dest, before, after_sum)]
        after = replace(
            predict(self.dest, existing, "file", self.attrs, mode=mode),
            type="file", size=source.size, sha256=source.sha256, content=None,
        )  # fmt: skip
        return Change(tuple(actions), tuple(diff), facts_after=settled(self.dest, after))
