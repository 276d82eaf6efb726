"""File operations for Python deploys (Ansible's file/copy/template/lineinfile/
blockinfile/replace/get_url/unarchive, pyinfra's ``files.*``).

Each function takes the host context first, declares one operation and returns
it; nothing runs until the plan is applied::

    from opsforge.deploy.operations import files

    def deploy(host):
        files.directory(host, "/srv/app", mode="0755", owner="app")
        files.template(host, "app.conf.j2", "/srv/app/app.conf", port=8080, notify="restart")
        files.line(host, "/etc/hosts", "10.0.0.5 db", regexp=r"\\sdb$")

Every function also takes the per-use settings ``name``, ``tags``, ``notify``,
``become`` and ``ignore_errors``. Paths on the host must be absolute; controller
paths (``src`` of copy/template/unarchive) are relative to the deploy's directory.
Modes: ``"0644"``, ``"644"``, ``0o644`` or symbolic ``"u=rw,g=r,o=r"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opsforge.deploy.context import Declared, HostContext
from opsforge.deploy.operations.files_attrs import Attrs, Mode
from opsforge.deploy.operations.files_content import Copy, RemoteCopy, Template
from opsforge.deploy.operations.files_edit import Block, Line, Replace
from opsforge.deploy.operations.files_fetch import Download, Unarchive
from opsforge.deploy.operations.files_ini import Ini
from opsforge.deploy.operations.files_state import Directory, File, Link, Remove
from opsforge.errors import InputError
from opsforge.types import Secret

__all__ = [
    "Block",
    "Copy",
    "Directory",
    "Download",
    "File",
    "Ini",
    "Line",
    "Link",
    "Mode",
    "RemoteCopy",
    "Remove",
    "Replace",
    "Template",
    "Unarchive",
    "block",
    "copy",
    "directory",
    "download",
    "file",
    "ini",
    "line",
    "link",
    "remove",
    "replace",
    "template",
    "unarchive",
]

ModeArg = str | int | None
_META = frozenset({"name", "tags", "notify", "become", "ignore_errors", "origin"})
_STATES = ("file", "touch", "absent", "directory", "link")


def file(
    host: HostContext,
    path: str,
    state: str = "file",
    *,
    mode: ModeArg = None,
    owner: str | int | None = None,
    group: str | int | None = None,
    src: str | None = None,
    force: bool = False,
    recurse: bool = False,
    **meta: Any,
) -> Declared:
    """Ansible's ``file``: ``state`` is file (must exist), touch (created empty if
    missing; times of an existing file are left alone), absent, directory or link
    (to ``src``; ``force`` replaces a file or an empty directory)."""
    attrs = Attrs.of(mode, owner, group)
    if state == "file" or state == "touch":
        return host.add(File(path, touch=state == "touch", attrs=attrs), **meta)
    if state == "absent":
        return host.add(Remove(path), **meta)
    if state == "directory":
        return host.add(Directory(path, attrs=attrs, recursive=recurse), **meta)
    if state == "link":
        return host.add(Link(path, src or "", force=force, attrs=attrs), **meta)
    raise InputError(f"file: unknown state {state!r} (one of {', '.join(_STATES)})")


def directory(
    host: HostContext,
    path: str,
    *,
    present: bool = True,
    mode: ModeArg = None,
    owner: str | int | None = None,
    group: str | int | None = None,
    recursive: bool = False,
    **meta: Any,
) -> Declared:
    """A directory (``mkdir -p``) with mode/owner/group, fixed only where they differ
    (``recursive``: everything under it too); ``present=False`` removes it."""
    op = Directory(path, present, Attrs.of(mode, owner, group), recursive)
    return host.add(op, **meta)


def link(
    host: HostContext,
    path: str,
    target: str = "",
    *,
    present: bool = True,
    force: bool = False,
    owner: str | int | None = None,
    group: str | int | None = None,
    **meta: Any,
) -> Declared:
    """A symlink ``path -> target``; a file or empty directory in the way is replaced
    only with ``force``. ``present=False`` removes the link (never anything else)."""
    op = Link(path, target, present, force, Attrs.of(None, owner, group))
    return host.add(op, **meta)


def copy(
    host: HostContext,
    src: str | None = None,
    dest: str = "",
    *,
    content: str | bytes | Secret | None = None,
    mode: ModeArg = None,
    owner: str | int | None = None,
    group: str | int | None = None,
    backup: bool = False,
    force: bool = True,
    validate: str | None = None,
    remote_src: bool = False,
    **meta: Any,
) -> Declared:
    """``dest`` holds controller file ``src`` (or ``content``). Written only when the
    sha256 differs; ``dest`` ending in ``/`` means ``dest/basename(src)``.
    ``force=False`` leaves an existing file's content alone. ``validate``: a command that
    must accept the new file (``%s``) before it replaces the old one (``visudo -cf %s``).
    ``remote_src``: ``src`` is a file on the host itself."""
    if remote_src:
        if src is None or content is not None or validate is not None:
            raise InputError("copy: remote_src needs src (and takes no content or validate)")
        remote = RemoteCopy(src, dest, Attrs.of(mode, owner, group), backup, force)
        return host.add(remote, **meta)
    data = content.encode("utf-8") if isinstance(content, str) else content
    op = Copy(dest, src, data, Attrs.of(mode, owner, group), backup, force, validate)
    return host.add(op, **meta)


def template(
    host: HostContext,
    src: str,
    dest: str,
    *,
    mode: ModeArg = None,
    owner: str | int | None = None,
    group: str | int | None = None,
    backup: bool = False,
    force: bool = True,
    validate: str | None = None,
    variables: Mapping[str, Any] | None = None,
    **extra: Any,
) -> Declared:
    """``dest`` holds Jinja2 template ``src`` rendered with the host's variables plus
    ``variables`` and any other keyword (besides name/tags/notify/become/ignore_errors).
    ``validate`` as for :func:`copy` (a template variable of that name goes in
    ``variables``)."""
    meta = {k: v for k, v in extra.items() if k in _META}
    values = {**(variables or {}), **{k: v for k, v in extra.items() if k not in _META}}
    attrs = Attrs.of(mode, owner, group)
    op = Template(src, dest, attrs, tuple(values.items()), backup, force, validate)
    return host.add(op, **meta)


def line(
    host: HostContext,
    path: str,
    line: str | None = None,
    *,
    regexp: str | None = None,
    search_string: str | None = None,
    present: bool = True,
    insertafter: str | None = None,
    insertbefore: str | None = None,
    backrefs: bool = False,
    firstmatch: bool = False,
    create: bool = True,
    mode: ModeArg = None,
    owner: str | int | None = None,
    group: str | int | None = None,
    backup: bool = False,
    validate: str | None = None,
    **meta: Any,
) -> Declared:
    """Ansible's lineinfile: the last line matching ``regexp`` (or containing
    ``search_string``) is replaced by ``line``; with no match ``line`` is added at the
    end, or after/before the last line matching ``insertafter``/``insertbefore``
    (``"BOF"``/``"EOF"`` too), unless it is already there. ``backrefs``: ``\\1`` in
    ``line`` from the match, and no change without one. ``present=False`` removes
    every matching line. Note: ``create`` defaults to True (Ansible: False)."""
    op = Line(
        path,
        Attrs.of(mode, owner, group),
        backup,
        validate,
        line=line,
        regexp=regexp,
        search_string=search_string,
        present=present,
        insertafter=insertafter,
        insertbefore=insertbefore,
        backrefs=backrefs,
        firstmatch=firstmatch,
        create=create,
    )
    return host.add(op, **meta)


def block(
    host: HostContext,
    path: str,
    block: str = "",
    *,
    marker: str = "# {mark} OPSFORGE MANAGED BLOCK",
    marker_begin: str = "BEGIN",
    marker_end: str = "END",
    present: bool = True,
    insertafter: str | None = None,
    insertbefore: str | None = None,
    create: bool = True,
    mode: ModeArg = None,
    owner: str | int | None = None,
    group: str | int | None = None,
    backup: bool = False,
    validate: str | None = None,
    **meta: Any,
) -> Declared:
    """Ansible's blockinfile: ``block`` between the BEGIN/END marker lines, replaced in
    place, or added at the end (or after/before the last line matching an anchor).
    ``present=False`` or an empty block removes it, markers included."""
    op = Block(
        path,
        Attrs.of(mode, owner, group),
        backup,
        validate,
        block=block,
        marker=marker,
        marker_begin=marker_begin,
        marker_end=marker_end,
        present=present,
        insertafter=insertafter,
        insertbefore=insertbefore,
        create=create,
    )
    return host.add(op, **meta)


def replace(
    host: HostContext,
    path: str,
    regexp: str,
    replace: str = "",
    *,
    after: str | None = None,
    before: str | None = None,
    mode: ModeArg = None,
    owner: str | int | None = None,
    group: str | int | None = None,
    backup: bool = False,
    validate: str | None = None,
    **meta: Any,
) -> Declared:
    """Ansible's replace: every match of ``regexp`` (Python ``re``, MULTILINE) becomes
    ``replace`` (``\\1``, ``\\g<name>``), only after ``after`` / before ``before``
    when given. The file must exist."""
    op = Replace(
        path,
        Attrs.of(mode, owner, group),
        backup,
        validate,
        regexp=regexp,
        replace=replace,
        after=after,
        before=before,
    )
    return host.add(op, **meta)


def ini(
    host: HostContext,
    path: str,
    section: str | None = None,
    option: str | None = None,
    value: str | int | float | bool | None = None,
    *,
    present: bool = True,
    no_extra_spaces: bool = False,
    allow_no_value: bool = False,
    exclusive: bool = True,
    create: bool = True,
    mode: ModeArg = None,
    owner: str | int | None = None,
    group: str | int | None = None,
    backup: bool = False,
    validate: str | None = None,
    **meta: Any,
) -> Declared:
    """community.general's ini_file: ``option = value`` in ``[section]`` (``None``: before
    the first section), the rest of the file kept as it is. ``present=False`` removes the
    option (without one: the whole section)."""
    text = None if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    op = Ini(
        path,
        Attrs.of(mode, owner, group),
        backup,
        validate,
        section=section,
        option=option,
        value=text,
        present=present,
        no_extra_spaces=no_extra_spaces,
        allow_no_value=allow_no_value,
        exclusive=exclusive,
        create=create,
    )
    return host.add(op, **meta)


def remove(host: HostContext, path: str, **meta: Any) -> Declared:
    """Nothing at ``path`` (``rm -rf`` of that exact path; never ``/``)."""
    return host.add(Remove(path), **meta)


def download(
    host: HostContext,
    url: str,
    dest: str,
    *,
    sha256: str | None = None,
    mode: ModeArg = None,
    owner: str | int | None = None,
    group: str | int | None = None,
    force: bool = False,
    **meta: Any,
) -> Declared:
    """Ansible's get_url: fetched on the host (curl, else wget) into a temp file,
    checked against ``sha256``, renamed to ``dest``. No-op when ``dest`` exists and
    no checksum is given or it matches (``force``: fetch unless the checksum matches)."""
    op = Download(url, dest, sha256, Attrs.of(mode, owner, group), force)
    return host.add(op, **meta)


def unarchive(
    host: HostContext,
    src: str,
    dest: str,
    *,
    creates: str | None = None,
    remote_src: bool = False,
    **meta: Any,
) -> Declared:
    """Extract a tar(.gz/.bz2/.xz) or zip archive into ``dest`` (created if missing).
    ``src`` is a controller file, or a host path with ``remote_src``. No-op when
    ``creates`` exists, or (without it) when the archive's files are all in ``dest``
    with the same content (remote tar archives: GNU ``tar --diff``)."""
    return host.add(Unarchive(src, dest, creates, remote_src), **meta)
