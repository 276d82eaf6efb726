"""Parsing files into records: format detection, multi-line events, malformed lines kept.

``parse_file(path, fmt)`` yields one record per event. ``fmt`` is a name from
:data:`~opsforge.observe.logs.formats.FORMATS`, ``auto`` (the format most of
the first lines parse in; if none does, the generic "timestamp level logger:
message" layouts), or a compiled grok pattern. A line no parser understands is
still a record: ``message`` is the line, ``tags`` holds ``_parsefailure``. A
stack trace joins its event: ``message`` holds every line, ``error.stack_trace``
the trace and ``error.type`` the exception class.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any

from opsforge.errors import UsageError
from opsforge.observe.logs.formats import FORMATS, Parser, generic_parser
from opsforge.observe.logs.grok import GrokPattern
from opsforge.observe.logs.multiline import group_lines
from opsforge.observe.logs.sources import read_lines

__all__ = [
    "FORMAT_NAMES",
    "FormatChoice",
    "choose_parser",
    "parse_file",
    "parse_lines",
    "parse_numbered",
]

FORMAT_NAMES = ("auto", *FORMATS)
_SAMPLE = 50
_JSON_FORMATS = frozenset({"json", "journald"})
_EXCEPTION = re.compile(
    r"^(?:Caused by: )?((?:[a-zA-Z_$][\w$]*\.)*[A-Z][\w$]*(?:Exception|Error|Throwable|Exit|"
    r"Interrupt|Warning)\w*)\b",
    re.MULTILINE,
)


@dataclass(frozen=True)
class FormatChoice:
    """The parser used for a file and the name it goes by (``grok``, ``generic``)."""

    name: str
    parser: Parser | None


def _grok_parser(pattern: GrokPattern) -> Parser:
    return pattern.match


def choose_parser(fmt: str | GrokPattern, sample: list[str]) -> FormatChoice:
    """The parser for ``fmt``; for ``auto`` the one most sample lines parse with."""
    if isinstance(fmt, GrokPattern):
        return FormatChoice("grok", _grok_parser(fmt))
    if fmt != "auto":
        if fmt not in FORMATS:
            raise UsageError(f"unknown log format {fmt!r}; one of: {', '.join(FORMAT_NAMES)}")
        return FormatChoice(fmt, FORMATS[fmt])
    lines = [first for _, first, _ in group_lines(enumerate(sample)) if first.strip()]
    best, best_hits = "", 0
    for name, parser in FORMATS.items():
        hits = sum(1 for line in lines if parser(line) is not None)
        if hits > best_hits:
            best, best_hits = name, hits
    if lines and best_hits >= 0.5 * len(lines):
        return FormatChoice(best, FORMATS[best])
    generic = generic_parser(lines)
    return FormatChoice("generic" if generic else "none", generic)


def _record(choice: FormatChoice, first: str, rest: list[str]) -> dict[str, Any]:
    text = "\n".join((first, *rest)) if rest else first
    record = choice.parser(first) if choice.parser is not None else None
    if record is None:
        record = {"message": text, "tags": ["_parsefailure"]}
    elif rest:
        record["message"] = "\n".join((str(record.get("message", "")), *rest))
    if rest:
        trace = "\n".join(rest)
        record["error.stack_trace"] = trace
        types = _EXCEPTION.findall(trace)
        if types:
            record["error.type"] = types[-1] if trace.lstrip().startswith("Traceback") else types[0]
    return record


def parse_lines(
    lines: Iterable[str], choice: FormatChoice, *, source: str = "", original: bool = False
) -> Iterator[dict[str, Any]]:
    """Records from lines, in order; blank lines are skipped. ``original`` keeps the
    event's first line as ``event.original``."""
    for _, record in parse_numbered(enumerate(lines, 1), choice, source=source, original=original):
        yield record


def parse_numbered(
    lines: Iterable[tuple[int, str]],
    choice: FormatChoice,
    *,
    source: str = "",
    original: bool = False,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(number, record)`` for numbered lines (line numbers or byte offsets); the
    number is the event's first line's, and becomes ``log.file.line``."""
    if choice.name in _JSON_FORMATS:
        events: Iterable[tuple[int, str, list[str]]] = ((n, line, []) for n, line in lines)
    else:
        events = group_lines(lines)
    for number, first, rest in events:
        if not first.strip() and not rest:
            continue
        record = _record(choice, first, rest)
        if original:
            record["event.original"] = first
        if source:
            record["log.file.path"] = source
        record["log.file.line"] = number
        yield number, record


def parse_file(
    path: str, fmt: str | GrokPattern = "auto", *, original: bool = False
) -> tuple[FormatChoice, Iterator[dict[str, Any]]]:
    """The format chosen for ``path`` and its records (read lazily)."""
    lines = read_lines(path)
    sample = list(islice(lines, _SAMPLE))
    choice = choose_parser(fmt, sample)
    return choice, parse_lines(chain(sample, lines), choice, source=path, original=original)
