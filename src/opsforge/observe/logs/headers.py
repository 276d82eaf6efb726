"""Log line headers: find the message part of a line (and its time, level, host).

Mining works on the message: the timestamp, level, host, pid and logger name in
front of it are not part of a template. :class:`HeaderDetector` looks at the
first lines of a file and picks the header layout most of them follow, from the
common families below; a line that does not follow it is mined whole.

* syslog (RFC 3164, optionally after a few leading fields) and RFC 5424;
* "timestamp level logger: message" in its many spellings (log4j, logback,
  Python logging, Go, Hadoop/Spark/ZooKeeper style, with pid, ``[thread]``,
  ``- `` separators, a logger followed by ``[context]``, aligned columns);
* Android logcat (threadtime), ``[timestamp] [level]`` (Apache error log),
  ``[timestamp] program - message``, ``time|tag|pid|message``;
* any line with a timestamp among its first fields followed by a level word, or
  with a 10-digit epoch time among its first fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["HEADER_LAYOUTS", "Header", "HeaderDetector", "HeaderSplitter", "split_header"]

_LEVELS = (
    r"(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|CRIT|CRITICAL|FATAL|SEVERE|ALERT|EMERG"
    r"|FAILURE|Trace|Debug|Info|Notice|Warn|Warning|Error|Critical|Fatal"
    r"|trace|debug|info|notice|warn|warning|error|crit|critical|fatal|emerg|alert)"
)
_MON = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_CLOCK = r"\d{1,2}[:.]\d{2}[:.]\d{2}(?:[.,:]\d{1,9})?"
_ZONE = r"(?:Z|[+-]\d{2}:?\d{2})?"
_DATETIME = (
    rf"(?:\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}[T -]{_CLOCK}{_ZONE}"
    rf"|\d{{1,2}}[-/.]\d{{1,2}}[-/.]\d{{2,4}}[ T]{_CLOCK}"
    rf"|\d{{1,2}}[-/]\d{{1,2}} {_CLOCK}"
    rf"|\d{{6}} \d{{6}}"
    rf"|\d{{8}}-{_CLOCK}"
    rf"|{_MON} +\d{{1,2}} {_CLOCK})"
)
_BRACKET = r"\[(?:[^\[\]]|\[[^\]]*\])*\]"
_LOGGER = r"[A-Za-z_$][\w.$@/:-]*(?:\[[^\]\s]*\]|\([^)\s]*\))?"

#: (name, pattern) in order of preference; each has a ``message`` group.
HEADER_LAYOUTS: tuple[tuple[str, str], ...] = (
    (
        "rfc5424",
        r"<(?P<pri>\d{1,3})>1 (?P<timestamp>\S+) (?P<host>\S+) (?P<process>\S+) (?P<pid>\S+) "
        r"\S+ (?:-|(?:\[[^\]]*\])+) ?(?P<message>.*)",
    ),
    (
        "syslog",
        rf"(?:<\d{{1,3}}>)?(?:\S+ +){{0,4}}?(?P<timestamp>{_MON} +\d{{1,2}} +{_CLOCK}"
        rf"(?: \d{{4}})?) +(?P<host>\S+) +(?P<process>[^\s\[:]+(?: [^\s\[:]+){{0,3}}?)"
        r"(?:\[(?P<pid>\d+)\])?(?: \([^)]*\))?: +(?P<message>.*)",
    ),
    (
        "logcat",
        rf"(?P<timestamp>\d{{2}}-\d{{2}} {_CLOCK}) +(?P<pid>\d+) +\d+ (?P<level>[VDIWEFA]) "
        r"(?P<process>[^:]*?) *: (?P<message>.*)",
    ),
    (
        "timestamp-level-logger",
        rf"(?:\S+ +)??\[?(?P<timestamp>{_DATETIME})\]?[, ]+(?:- +)?(?:(?P<pid>\d+) +)?"
        rf"\[?(?P<level>{_LEVELS})\]?:? +(?:{_BRACKET} +)?(?:- +)?"
        rf"(?:(?P<logger>{_LOGGER})(?::? +-? *(?={_BRACKET})|: +| {{2,}}))?"
        rf"(?:{_BRACKET} +)?(?:- +)?(?P<message>.*)",
    ),
    (
        "bracket-time-level",
        r"\[(?P<timestamp>[^\]]*\d[^\]]*)\] +\[(?P<level>\w+)\] +(?:\[pid \d+[^\]]*\] +)?"
        r"(?P<message>.*)",
    ),
    (
        "bracket-time-program",
        r"\[(?P<timestamp>[^\]]*\d[^\]]*)\] +(?P<process>\S+(?: \S+){0,2}?) +- +(?P<message>.*)",
    ),
    (
        "pipe-fields",
        rf"(?P<timestamp>{_DATETIME}|[^|\s]*\d[^|\s]*)\|(?P<logger>[^|]*)\|(?P<pid>\d+)\|"
        r"(?P<message>.*)",
    ),
    (
        "fields-level",
        rf"(?=(?:\S+ +){{0,6}}?(?:{_DATETIME}|\d{{4}}[-.]\d{{2}}[-.]\d{{2}}\S*|\d{{10}}) )"
        rf"(?:\S+ +){{1,9}}?(?P<level>{_LEVELS}) +(?P<message>.*)",
    ),
    (
        "fields-epoch",
        r"(?:\S+ +){1,5}?(?P<timestamp>\d{10}(?:\.\d+)?) +(?:\d{1,3} +)?(?P<message>.*)",
    ),
)

#: The catch-all layouts, tried after every specific one.
_BROAD = ("fields-level", "fields-epoch")
_DIGIT_RUNS = re.compile(r"\d+")
_COMPILED = tuple((name, re.compile(pattern)) for name, pattern in HEADER_LAYOUTS)
_BY_NAME = dict(_COMPILED)
_HAS_TIME = {name: "timestamp" in pattern.groupindex for name, pattern in _COMPILED}


@dataclass(frozen=True, slots=True)
class Header:
    """What a header said: the message and whichever fields the layout has."""

    message: str
    timestamp: str = ""
    level: str = ""
    host: str = ""
    process: str = ""
    pid: str = ""


def split_header(line: str, layout: str | None) -> Header:
    """``line`` split by the named layout; the whole line as message if it does not fit."""
    if layout is not None:
        found = _BY_NAME[layout].match(line)
        if found is not None:
            fields = found.groupdict()
            return Header(
                message=fields["message"],
                timestamp=fields.get("timestamp") or "",
                level=fields.get("level") or "",
                host=fields.get("host") or "",
                process=fields.get("process") or fields.get("logger") or "",
                pid=fields.get("pid") or "",
            )
    return Header(message=line)


class HeaderSplitter:
    """Splits lines by a detected layout; a line that does not fit it tries the other
    layouts (files concatenated from several sources), and the last layout that fit
    is tried first from then on. With no layout detected, lines are mined whole."""

    def __init__(self, layout: str | None) -> None:
        self.layout = layout
        self._order = [name for name, _ in HEADER_LAYOUTS if name != layout]
        if layout is not None:
            self._order.insert(0, layout)
        self._shapes: dict[str, str] = {}

    def split(self, line: str) -> Header:
        found = self._match(line)
        return split_header(line, self.layout) if found is not None else Header(message=line)

    def message_and_time(self, line: str) -> tuple[str, str]:
        """The fast path of mining: only the message and the timestamp."""
        found = self._match(line)
        if found is None:
            return line, ""
        stamp = found["timestamp"] if _HAS_TIME[self.layout or ""] else None
        return found["message"], stamp or ""

    def _match(self, line: str) -> re.Match[str] | None:
        if self.layout is None:
            return None
        found = _BY_NAME[self.layout].match(line)
        if found is not None:
            return found
        # a line of another layout: the layout that last fitted a line of this
        # prefix shape (digits as 0) is tried first, then the others in order
        shape = _DIGIT_RUNS.sub("0", line[:16])
        known = self._shapes.get(shape, "")
        if known == "none":
            return None
        for name in ([known] if known else []) + [n for n in self._order[1:] if n != known]:
            found = _BY_NAME[name].match(line)
            if found is not None:
                self._order.remove(name)
                self._order.insert(0, name)
                self.layout = name
                self._shapes[shape] = name
                return found
        if len(self._shapes) < 10_000:
            self._shapes[shape] = "none"
        return None


class HeaderDetector:
    """Chooses the header layout most sample lines follow (none below ``min_share``)."""

    def __init__(self, min_share: float = 0.6) -> None:
        self.min_share = min_share

    def detect(self, sample: Iterable[str]) -> str | None:
        lines = [line for line in sample if line.strip()]
        if not lines:
            return None
        best: str | None = None
        best_hits = 0
        best_specific: str | None = None
        specific_hits = 0
        covered: set[int] = set()
        for name, pattern in _COMPILED:
            hits = [index for index, line in enumerate(lines) if pattern.match(line)]
            covered.update(hits)
            if len(hits) > best_hits:
                best, best_hits = name, len(hits)
            if name not in _BROAD and len(hits) > specific_hits:
                best_specific, specific_hits = name, len(hits)
        if best_hits >= self.min_share * len(lines):
            return best
        # several layouts that together cover most lines (a file concatenated from
        # several sources): start with the most common specific one, HeaderSplitter
        # tries the others line by line
        if len(covered) < self.min_share * len(lines):
            return None
        return best_specific or best
