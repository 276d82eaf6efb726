"""One option of an INI file (community.general's ini_file), edited from the file's content.

The edit keeps everything else as it is — comments, blank lines, order, the spacing of
other lines: the first ``option`` line of ``section`` gets the value (``exclusive``: the
option's other lines in that section go), a missing option goes after the section's last
line, a missing section goes at the end of the file. ``section=None`` is the part before
the first section header. Removing an option removes each of its lines in the section;
removing without an option removes the whole section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from opsforge.deploy.operations.files_edit import _Edit
from opsforge.errors import InputError

__all__ = ["Ini", "edit_ini"]

_HEADER = re.compile(r"^\s*\[\s*(?P<name>[^\]]*?)\s*\]")


def _option_re(option: str) -> re.Pattern[str]:
    # `option = v`, `option=v`, `option: v`, or a bare `option` (allow_no_value)
    return re.compile(rf"^[ \t]*{re.escape(option)}[ \t]*(?:[=:]|$)")


def _lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines


def _section_bounds(lines: list[str], section: str | None) -> tuple[int, int] | None:
    """[start, end) of the section's body (after its header), or None when it is absent."""
    if section is None:
        end = next((i for i, line in enumerate(lines) if _HEADER.match(line)), len(lines))
        return 0, end
    for i, line in enumerate(lines):
        header = _HEADER.match(line)
        if header and header.group("name") == section:
            end = next((j for j in range(i + 1, len(lines)) if _HEADER.match(lines[j])), len(lines))
            return i + 1, end
    return None


def edit_ini(
    text: str,
    section: str | None,
    option: str | None,
    value: str | None,
    *,
    present: bool = True,
    no_extra_spaces: bool = False,
    allow_no_value: bool = False,
    exclusive: bool = True,
) -> str:
    """``text`` with ``option`` of ``section`` set to ``value`` (or removed)."""
    lines = _lines(text)
    bounds = _section_bounds(lines, section)
    if not present:
        if bounds is None:
            return text
        start, end = bounds
        if option is None:  # the whole section, its header too
            return "".join(lines[: start - 1] + lines[end:]) if section is not None else text
        matcher = _option_re(option)
        kept = [line for line in lines[start:end] if not matcher.match(line)]
        return "".join(lines[:start] + kept + lines[end:])
    if option is None:
        if bounds is None and section is not None:
            lines.append(f"[{section}]\n")
        return "".join(lines)
    if value is None and not allow_no_value:
        raise InputError(f"ini_file: {option}: a value is required (or allow_no_value)")
    sep = "=" if no_extra_spaces else " = "
    wanted = option if value is None else f"{option}{sep}{value}"
    new_line = wanted + "\n"
    if bounds is None:
        lines.append(f"[{section}]\n")
        lines.append(new_line)
        return "".join(lines)
    start, end = bounds
    matcher = _option_re(option)
    body = lines[start:end]
    hits = [i for i, line in enumerate(body) if matcher.match(line)]
    if hits:
        first = hits[0]
        body[first] = new_line
        if exclusive:
            body = [line for i, line in enumerate(body) if i == first or i not in hits]
    else:
        # after the section's last non-blank line: blank lines stay between sections
        last = max((i for i, line in enumerate(body) if line.strip()), default=-1)
        body.insert(last + 1, new_line)
    return "".join(lines[:start] + body + lines[end:])


@dataclass(frozen=True)
class Ini(_Edit):
    section: str | None = None
    option: str | None = None
    value: str | None = None
    present: bool = True
    no_extra_spaces: bool = False
    allow_no_value: bool = False
    exclusive: bool = True
    create: bool = True

    kind: ClassVar[str] = "files.ini"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.section is not None and ("]" in self.section or "\n" in self.section):
            raise InputError(f"ini_file: section {self.section!r} is not a section name")
        if self.option is not None and (not self.option.strip() or "\n" in self.option):
            raise InputError(f"ini_file: option {self.option!r} is not an option name")
        if self.present and self.option is None and self.section is None:
            raise InputError("ini_file: give a section, an option or both")
        if self.value is not None and "\n" in self.value:
            raise InputError(f"ini_file: {self.option}: the value is more than one line")
        if self.present and self.option and self.value is None and not self.allow_no_value:
            raise InputError(f"ini_file: {self.option}: a value is required (or allow_no_value)")

    def describe(self) -> str:
        where = f"[{self.section}] " if self.section is not None else ""
        if not self.present:
            return f"ini {self.path}: {where}{self.option or ''} absent".replace("  ", " ")
        return f"ini {self.path}: {where}{self.option or ''}={self.value or ''}"

    def edit(self, text: str) -> str:
        return edit_ini(
            text,
            self.section,
            self.option,
            self.value,
            present=self.present,
            no_extra_spaces=self.no_extra_spaces,
            allow_no_value=self.allow_no_value,
            exclusive=self.exclusive,
        )

    def unchanged(self) -> str:
        return f"{self.option or self.section} already as wanted"

    def _removing(self) -> bool:
        return not self.present

    def _may_create(self) -> bool:
        return self.create
