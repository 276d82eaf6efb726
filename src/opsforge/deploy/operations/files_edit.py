"""Edits inside a text file: one line (``lineinfile``), a marked block (``blockinfile``),
every regex match (``replace``).

The new content is computed here, in Python, from the file's content fact; the
whole new file is then written atomically (temp + rename) with a unified diff, so
a failed run never leaves a half-edited file. Files up to ``CONTENT_LIMIT`` bytes.
Lines end at ``\\n`` only; the file's bytes are kept (non-UTF-8 ones too).
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.files import CONTENT_LIMIT, FileState
from opsforge.deploy.operation import Change, Operation, PlanEnv
from opsforge.deploy.operations.files_attrs import Attrs, check_path, fixed, refuse
from opsforge.deploy.operations.files_content import check_validate, plan_content
from opsforge.errors import InputError

__all__ = ["Block", "Line", "Replace", "edit_block", "edit_line", "edit_replace"]


def _split(text: str) -> list[str]:
    """Lines with their ``\\n`` (the last one may have none)."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _bare(line: str) -> str:
    return line.rstrip("\r\n")


def _compile(pattern: str | None, what: str, flags: int = 0) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise InputError(f"{what} {pattern!r} is not a valid regular expression: {exc}") from None


def _end_line(lines: list[str]) -> None:
    """Make sure the last line has its newline before something goes after it."""
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"


def edit_line(
    text: str,
    line: str,
    *,
    regexp: str | None = None,
    search_string: str | None = None,
    present: bool = True,
    insertafter: str | None = None,
    insertbefore: str | None = None,
    backrefs: bool = False,
    firstmatch: bool = False,
) -> str:
    """``text`` after Ansible's lineinfile (see :func:`opsforge.deploy.operations.files.line`)."""
    lines = _split(text)
    pattern = _compile(regexp, "regexp")

    def matches(cur: str) -> re.Match[str] | bool | None:
        if pattern is not None:
            return pattern.search(cur)
        if search_string is not None:
            return search_string in cur
        return None

    if not present:
        if pattern is None and search_string is None:
            return "".join(cur for cur in lines if _bare(cur) != line)
        return "".join(cur for cur in lines if not matches(cur))

    found, match = -1, None
    if pattern is not None or search_string is not None:
        for index, cur in enumerate(lines):
            m = matches(cur)
            if m:
                found, match = index, m
                if firstmatch:
                    break
    anchor_text = insertafter if insertafter not in (None, "BOF", "EOF") else None
    if anchor_text is None and insertbefore not in (None, "BOF"):
        anchor_text = insertbefore
    anchor = _compile(anchor_text, "insertafter" if insertafter else "insertbefore")
    at, exact = -1, False
    if not match:
        for index, cur in enumerate(lines):
            if _bare(cur) == line:
                found, exact = index, True
            elif anchor is not None and anchor.search(cur):
                at = index + 1 if insertafter else index
                if firstmatch:
                    break

    if exact:
        pass  # already there (as it is: a missing final newline is not worth a change)
    elif found != -1:
        new = match.expand(line) if backrefs and isinstance(match, re.Match) else line
        if not new.endswith("\n"):
            new += "\n"
        lines[found] = new
    elif backrefs:
        pass  # no match: the backreferences cannot be filled, leave the file alone
    elif "BOF" in (insertbefore, insertafter):
        lines.insert(0, line + "\n")
    elif insertafter == "EOF" or at == -1:
        _end_line(lines)
        lines.append(line + "\n")
    elif insertafter:  # after the last (firstmatch: first) line matching the anchor
        if at == len(lines):
            _end_line(lines)
        if at == len(lines) or _bare(lines[at]) != line:
            lines.insert(at, line + "\n")
    elif at == 0 or _bare(lines[at - 1]) != line:  # before the anchor, unless just there
        lines.insert(at, line + "\n")
    return "".join(lines)


def edit_block(
    text: str,
    block: str,
    *,
    marker: str = "# {mark} OPSFORGE MANAGED BLOCK",
    marker_begin: str = "BEGIN",
    marker_end: str = "END",
    present: bool = True,
    insertafter: str | None = None,
    insertbefore: str | None = None,
) -> str:
    """``text`` after Ansible's blockinfile: the block between its markers replaced,
    inserted (at the end, or after/before the last line matching an anchor), or removed."""
    lines = _split(text)
    begin = marker.replace("{mark}", marker_begin)
    end = marker.replace("{mark}", marker_end)
    first = last = None
    for index, cur in enumerate(lines):
        if _bare(cur) == begin:
            first = index
        if _bare(cur) == end:
            last = index
    body = block[:-1] if block.endswith("\n") else block
    new = [begin, *body.split("\n"), end] if present and block else []
    if first is not None and last is not None:
        start, stop = sorted((first, last))
        del lines[start : stop + 1]
        at = start
    else:
        if not new:
            return text
        anchor_text = insertafter if insertafter not in (None, "EOF") else None
        if anchor_text is None and insertbefore not in (None, "BOF"):
            anchor_text = insertbefore
        anchor = _compile(anchor_text, "insertafter" if insertafter else "insertbefore")
        if anchor is not None:
            hits = [i for i, cur in enumerate(lines) if anchor.search(cur)]
            at = len(lines) if not hits else hits[-1] + (1 if insertafter else 0)
        else:
            at = 0 if insertbefore == "BOF" else len(lines)
    if new and at > 0 and not lines[at - 1].endswith(("\n", "\r")):
        lines[at - 1] += "\n"
    lines[at:at] = [item + "\n" for item in new]
    return "".join(lines)


def edit_replace(
    text: str,
    regexp: str,
    replace: str = "",
    *,
    after: str | None = None,
    before: str | None = None,
) -> str:
    """Every match of ``regexp`` (MULTILINE) replaced, within the section after the first
    match of ``after`` and before ``before`` when those are given (Ansible's replace)."""
    pattern = _compile(regexp, "regexp", re.MULTILINE)
    assert pattern is not None
    start, stop = 0, len(text)
    if after is not None or before is not None:
        section = ""
        if after is not None:
            section += f"(?:{after})"
        lazy = "?" if after is not None and before is not None else ""
        section += f"(?P<opsforge_section>.*{lazy})"
        if before is not None:
            section += f"(?:{before})"
        found = _compile(section, "after/before", re.DOTALL)
        m = found.search(text) if found else None
        if m is None:
            return text
        start, stop = m.span("opsforge_section")
    try:
        replaced = pattern.sub(replace, text[start:stop])
    except (re.error, IndexError) as exc:
        raise InputError(f"replace {replace!r}: {exc}") from None
    return text[:start] + replaced + text[stop:]


@dataclass(frozen=True)
class _Edit(Operation):
    """An edit of the file at ``path``, computed from its content."""

    path: str
    attrs: Attrs = field(default_factory=Attrs)
    backup: bool = False
    validate: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", check_path(self.path))
        check_validate(self.validate)

    def facts(self) -> tuple[Fact[Any], ...]:
        return (FileState(self.path, content=True),)

    @abc.abstractmethod
    def edit(self, text: str) -> str:
        """The new text from the current text."""

    @abc.abstractmethod
    def unchanged(self) -> str:
        """The no-op reason."""

    def _removing(self) -> bool:
        return False

    def _may_create(self) -> bool:
        return False

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        info = facts.get(FileState(self.path, content=True))
        if info is None:
            if self._removing():
                return Change.noop(f"{self.path} does not exist")
            if not self._may_create():
                raise refuse(env, f"{self.path} does not exist (create=False)")
            old = ""
        elif not info.is_file:
            what = f"a symlink to {info.link_target}" if info.is_link else f"a {info.type}"
            raise refuse(env, f"{self.path} is {what}, not a regular file (edit the real file)")
        elif not info.readable:
            raise refuse(env, f"cannot read {self.path}: permission denied (use become)")
        elif info.content is None and info.too_big:
            raise refuse(env, f"{self.path} is bigger than {CONTENT_LIMIT // 1024} KiB: not edited")
        elif info.content is None:
            raise refuse(
                env,
                f"the content of {self.path} is not known before an earlier operation of "
                "this run has fetched it: edit it in a later run",
            )
        else:
            old = info.content.decode("utf-8", "surrogateescape")
        new = self.edit(old)
        if info is not None and new == old:
            actions, diff = self.attrs.fixups(self.path, info, is_dir=False)
            if not actions:
                return Change.noop(f"{self.unchanged()} in {self.path}")
            fixed_facts = fixed(self.path, facts, "file", self.attrs)
            return Change(tuple(actions), tuple(diff), facts_after=fixed_facts)
        data = new.encode("utf-8", "surrogateescape")
        return plan_content(
            self.path,
            data,
            info,
            self.attrs,
            env,
            facts,
            backup=self.backup,
            validate=self.validate,
        )


@dataclass(frozen=True)
class Line(_Edit):
    line: str | None = None
    regexp: str | None = None
    search_string: str | None = None
    present: bool = True
    insertafter: str | None = None
    insertbefore: str | None = None
    backrefs: bool = False
    firstmatch: bool = False
    create: bool = True

    kind: ClassVar[str] = "files.line"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.regexp is not None and self.search_string is not None:
            raise InputError("line: regexp and search_string exclude each other")
        if self.insertafter is not None and self.insertbefore is not None:
            raise InputError("line: insertafter and insertbefore exclude each other")
        if self.present and self.line is None:
            raise InputError("line: the line is required")
        if self.backrefs and self.regexp is None:
            raise InputError("line: backrefs needs a regexp")
        if (
            not self.present
            and self.line is None
            and self.regexp is None
            and not self.search_string
        ):
            raise InputError("line: removing needs a line, a regexp or a search_string")
        if self.line is not None and "\n" in self.line.rstrip("\n"):
            raise InputError("line: the line must not contain newlines (use block())")
        _compile(self.regexp, "regexp")
        for anchor in (self.insertafter, self.insertbefore):
            if anchor not in (None, "BOF", "EOF"):
                _compile(anchor, "insertafter/insertbefore")

    def describe(self) -> str:
        what = self.line if self.line is not None else self.regexp or self.search_string
        return f"line {what!r} in {self.path}" + ("" if self.present else " (absent)")

    def _removing(self) -> bool:
        return not self.present

    def _may_create(self) -> bool:
        return self.create

    def edit(self, text: str) -> str:
        return edit_line(
            text,
            self.line or "",
            regexp=self.regexp,
            search_string=self.search_string,
            present=self.present,
            insertafter=self.insertafter,
            insertbefore=self.insertbefore,
            backrefs=self.backrefs,
            firstmatch=self.firstmatch,
        )

    def unchanged(self) -> str:
        if not self.present:
            return "no matching line"
        if self.backrefs:
            return "line already right (or regexp matches nothing)"
        return "line already present"


@dataclass(frozen=True)
class Block(_Edit):
    block: str = ""
    marker: str = "# {mark} OPSFORGE MANAGED BLOCK"
    marker_begin: str = "BEGIN"
    marker_end: str = "END"
    present: bool = True
    insertafter: str | None = None
    insertbefore: str | None = None
    create: bool = True

    kind: ClassVar[str] = "files.block"

    def __post_init__(self) -> None:
        super().__post_init__()
        if "{mark}" not in self.marker:
            raise InputError(f"block: marker {self.marker!r} must contain '{{mark}}'")
        if self.marker_begin == self.marker_end:
            raise InputError("block: marker_begin and marker_end must differ")
        if self.insertafter is not None and self.insertbefore is not None:
            raise InputError("block: insertafter and insertbefore exclude each other")
        for anchor in (self.insertafter, self.insertbefore):
            if anchor not in (None, "BOF", "EOF"):
                _compile(anchor, "insertafter/insertbefore")

    def describe(self) -> str:
        label = " ".join(self.marker.replace("{mark}", "").split())
        return f"block {label!r} in {self.path}" + ("" if self.present else " (absent)")

    def _removing(self) -> bool:
        return not self.present or not self.block

    def _may_create(self) -> bool:
        return self.create

    def edit(self, text: str) -> str:
        return edit_block(
            text,
            self.block,
            marker=self.marker,
            marker_begin=self.marker_begin,
            marker_end=self.marker_end,
            present=self.present,
            insertafter=self.insertafter,
            insertbefore=self.insertbefore,
        )

    def unchanged(self) -> str:
        return "no block" if self._removing() else "block up to date"


@dataclass(frozen=True)
class Replace(_Edit):
    regexp: str = ""
    replace: str = ""
    after: str | None = None
    before: str | None = None

    kind: ClassVar[str] = "files.replace"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.regexp:
            raise InputError("replace: regexp is required")
        _compile(self.regexp, "regexp", re.MULTILINE)
        for anchor in (self.after, self.before):
            _compile(anchor, "after/before")

    def describe(self) -> str:
        return f"replace {self.regexp!r} in {self.path}"

    def edit(self, text: str) -> str:
        return edit_replace(text, self.regexp, self.replace, after=self.after, before=self.before)

    def unchanged(self) -> str:
        return "nothing to replace"
