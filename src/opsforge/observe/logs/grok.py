"""Named patterns in grok syntax: ``%{IPORHOST:client}``, ``%{NUMBER:bytes:int}``.

``%{NAME}`` matches the named pattern, ``%{NAME:field}`` also captures it as
``field`` (dots allowed: ``source.ip``), ``%{NAME:field:int}`` / ``:float``
converts the value. Patterns may use other patterns. Users add their own in
pattern files: one ``NAME regex`` per line, ``#`` comments, the same format as
Logstash's and Elasticsearch's grok pattern files, so existing ones load.

The built-in library below was written for opsforge and covers the common
needs: numbers, words, quoted strings, IPs, host names, ports, paths, URIs,
UUIDs, MACs, timestamps (ISO 8601, syslog, HTTP dates), log levels, and the
Apache/nginx access log lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opsforge.errors import InputError

__all__ = ["BUILTIN_PATTERNS", "GrokError", "GrokLibrary", "GrokPattern"]

BUILTIN_PATTERNS: dict[str, str] = {
    "INT": r"[+-]?\d+",
    "POSINT": r"\b[1-9]\d*\b",
    "NONNEGINT": r"\b\d+\b",
    "BASE10NUM": r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)",
    "NUMBER": r"%{BASE10NUM}",
    "BASE16NUM": r"(?:0[xX])?[0-9A-Fa-f]+",
    "WORD": r"\b\w+\b",
    "NOTSPACE": r"\S+",
    "SPACE": r"\s*",
    "DATA": r".*?",
    "GREEDYDATA": r".*",
    "QUOTEDSTRING": r"\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'",
    "QS": r"%{QUOTEDSTRING}",
    "UUID": r"[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}",
    "MAC": r"(?:[A-Fa-f0-9]{2}[:-]){5}[A-Fa-f0-9]{2}|(?:[A-Fa-f0-9]{4}\.){2}[A-Fa-f0-9]{4}",
    "IPV4": r"(?<![0-9])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![0-9])",
    "IPV6": r"(?:[A-Fa-f0-9]{0,4}:){2,7}(?:[A-Fa-f0-9]{1,4}|%{IPV4})?",
    "IP": r"%{IPV6}|%{IPV4}",
    "HOSTNAME": r"\b(?:[0-9A-Za-z][0-9A-Za-z-]{0,62})(?:\.(?:[0-9A-Za-z][0-9A-Za-z-]{0,62}))*\.?\b",
    "IPORHOST": r"%{IP}|%{HOSTNAME}",
    "HOSTPORT": r"%{IPORHOST}:%{POSINT}",
    "USERNAME": r"[a-zA-Z0-9._-]+",
    "USER": r"%{USERNAME}",
    "EMAILADDRESS": r"[a-zA-Z0-9!#$%&'*+/=?^_`{|}~.-]+@%{HOSTNAME}",
    "PATH": r"(?:/[^\s/]*)+|(?:[A-Za-z]:)?(?:\\\\[^\s\\\\]*)+",
    "URIPROTO": r"[A-Za-z][A-Za-z0-9+.-]*",
    "URIPATH": r"(?:/[A-Za-z0-9$.+!*'(){},~:;=@#%&_\-]*)+",
    "URIPARAM": r"\?[A-Za-z0-9$.+!*'|(){},~@#%&/=:;_?\-\[\]<>]*",
    "URIPATHPARAM": r"%{URIPATH}(?:%{URIPARAM})?",
    "URI": r"%{URIPROTO}://(?:[^@\s/]+@)?%{IPORHOST}(?::%{POSINT})?(?:%{URIPATHPARAM})?",
    "MONTH": r"\b(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|"
    r"Aug(?:ust)?|Sep(?:tember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b",
    "MONTHNUM": r"0?[1-9]|1[0-2]",
    "MONTHDAY": r"(?:0[1-9]|[12]\d|3[01]|[1-9])",
    "DAY": r"(?:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|"
    r"Sat(?:urday)?|Sun(?:day)?)",
    "YEAR": r"\d{4}|\d{2}",
    "HOUR": r"2[0-3]|[01]?\d",
    "MINUTE": r"[0-5]\d",
    "SECOND": r"(?:[0-5]?\d|60)(?:[.,:]\d+)?",
    "TIME": r"%{HOUR}:%{MINUTE}(?::%{SECOND})?",
    "ISO8601_TIMEZONE": r"Z|[+-]%{HOUR}(?::?%{MINUTE})?",
    "TIMESTAMP_ISO8601": r"%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}"
    r"(?::?%{SECOND})?(?:%{ISO8601_TIMEZONE})?",
    "SYSLOGTIMESTAMP": r"%{MONTH} +%{MONTHDAY} %{TIME}",
    "HTTPDATE": r"%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} [+-]\d{4}",
    "LOGLEVEL": r"(?i:trace|debug|info(?:rmation)?|notice|warn(?:ing)?|err(?:or)?|crit(?:ical)?"
    r"|fatal|severe|alert|emerg(?:ency)?)",
    "PROG": r"[\x21-\x5a\x5c\x5e-\x7e]+",
    "SYSLOGHOST": r"%{IPORHOST}",
    "COMMONAPACHELOG": r"%{IPORHOST:source.address} %{NOTSPACE:http.request.ident} "
    r"%{NOTSPACE:user.name} \[%{HTTPDATE:@timestamp}\] \"(?:%{WORD:http.request.method} "
    r"%{NOTSPACE:url.original}(?: HTTP/%{NUMBER:http.version})?|%{DATA:http.request.raw})\" "
    r"%{NUMBER:http.response.status_code:int} (?:%{NUMBER:http.response.body.bytes:int}|-)",
    "COMBINEDAPACHELOG": r"%{COMMONAPACHELOG} %{QS:http.request.referrer} "
    r"%{QS:user_agent.original}",
}

_REFERENCE = re.compile(r"%\{(?P<name>\w+)(?::(?P<field>[\w.@\[\]-]+))?(?::(?P<type>int|float))?\}")
_CONVERTERS: dict[str, Callable[[str], Any]] = {"int": int, "float": float}


class GrokError(InputError):
    """A grok expression or pattern file that cannot be used (names file:line)."""


@dataclass(frozen=True, slots=True)
class _Capture:
    field: str
    kind: str | None
    unquote: bool


@dataclass(frozen=True)
class GrokPattern:
    """A compiled grok expression; ``match`` gives the captured fields or None."""

    expression: str
    regex: re.Pattern[str]
    fields: Mapping[str, _Capture]  # regex group name -> what it captures

    def match(self, line: str) -> dict[str, Any] | None:
        """The captured fields (``-`` means absent, as in access logs), or None."""
        found = self.regex.match(line)
        if found is None:
            return None
        result: dict[str, Any] = {}
        for group, value in found.groupdict().items():
            if value is None or value == "-":
                continue
            capture = self.fields[group]
            if capture.unquote and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
                if value == "-":
                    continue
            if capture.kind is None:
                result[capture.field] = value
                continue
            try:
                result[capture.field] = _CONVERTERS[capture.kind](value)
            except ValueError:
                result[capture.field] = value
        return result


class GrokLibrary:
    """Named patterns (the built-ins plus pattern files) and the compiler."""

    def __init__(self, patterns: Mapping[str, str] | None = None) -> None:
        self.patterns: dict[str, str] = dict(BUILTIN_PATTERNS if patterns is None else patterns)

    def load_file(self, path: Path) -> int:
        """Add every ``NAME regex`` line of a pattern file; how many were added."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise GrokError(exc.strerror or str(exc), path=str(path)) from None
        except UnicodeDecodeError:
            raise GrokError("not a UTF-8 text file", path=str(path)) from None
        added = 0
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            name, _, regex = line.partition(" ")
            if not re.fullmatch(r"\w+", name) or not regex.strip():
                raise GrokError(f"expected 'NAME regex', got {raw!r}", path=str(path), line=number)
            self.patterns[name] = regex.strip()
            try:
                self.compile(f"%{{{name}}}")
            except GrokError as exc:
                raise GrokError(exc.message, path=str(path), line=number) from None
            added += 1
        return added

    def compile(self, expression: str) -> GrokPattern:
        """Compile ``expression``; ``GrokError`` for unknown names, cycles or bad regexes."""
        fields: dict[str, _Capture] = {}
        regex = self._expand(expression, fields, ())
        try:
            compiled = re.compile(regex)
        except re.error as exc:
            raise GrokError(f"grok expression {expression!r}: {exc}") from None
        return GrokPattern(expression, compiled, fields)

    def _expand(self, expression: str, fields: dict[str, _Capture], stack: tuple[str, ...]) -> str:
        def replace(found: re.Match[str]) -> str:
            name, field, kind = found.group("name", "field", "type")
            if name not in self.patterns:
                raise GrokError(f"unknown grok pattern %{{{name}}}")
            if name in stack:
                raise GrokError(f"grok pattern %{{{name}}} refers to itself")
            inner = self._expand(self.patterns[name], fields, (*stack, name))
            if field is None:
                return f"(?:{inner})"
            group = f"g{len(fields)}"
            fields[group] = _Capture(field, kind, name in ("QS", "QUOTEDSTRING"))
            return f"(?P<{group}>{inner})"

        return _REFERENCE.sub(replace, expression)
