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
* any line with a timestamp among its first fields followed by a level word.
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
        r"\[(?P<timestamp>[^\]]*\d[^\]]*)\] +(?P<process>\S+) +- +(?P<message>.*)",
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
)

#: The catch-all layout, tried after every specific one.
_BROAD = "fields-level"
_COMPILED = tuple((name, re.compile(pattern)) for name, pattern in HEADER_LAYOUTS)
_BY_NAME = dict(_COMPILED)


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
        self._order = [layout, *(name for name, _ in HEADER_LAYOUTS if name != layout)]

    def split(self, line: str) -> Header:
        header = split_header(line, self.layout)
        if self.layout is None or header.message is not line:
            return header
        for name in self._order[1:]:
            header = split_header(line, name)
            if header.message is not line:
                self._order.remove(name)
                self._order.insert(0, name)
                self.layout = name
                return header
        return header


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
            if name != _BROAD and len(hits) > specific_hits:
                best_specific, specific_hits = name, len(hits)
        if best_hits >= self.min_share * len(lines):
            return best
        # several layouts that together cover most lines (a file concatenated from
        # several sources): start with the most common specific one, HeaderSplitter
        # tries the others line by line
        if len(covered) < self.min_share * len(lines):
            return None
        return best_specific or best
