"""Masking: the variable parts of a log message become ``<*>`` before mining.

A message is split at white space; each distinct token is masked once (a cache
keeps the answer) by one compiled regular expression whose alternatives name the
kinds of variables, the first that matches at a position winning:

* URLs (``scheme://...``) and file paths with two or more segments;
* host names ending in a common top-level domain (``ns1.example.com``);
* the value of ``key=value`` (the key stays: ``uid=<*>``);
* every chunk that holds a digit: numbers, IPs, ``host:port``, hex, UUIDs, block
  ids (``blk_-123``), ``appattempt_14_0020``, ``R02-M1-N0``, times. A chunk ends at
  white space and at ``= , ; ( ) [ ] { } < > " ' |`` so brackets and keys stay.

Then, across tokens: runs of ``<*>`` (``1, 2, 3``) become one ``<*>``, so
variable-length lists give one template; a unit after a number is part of it
(``1.16 KB``, ``<1 sec``); day and month names next to a masked token are part of a
date (``Sun Dec 04 04:47:44 2005``).
"""

from __future__ import annotations

import re

__all__ = ["WILDCARD", "mask"]

WILDCARD = "<*>"

_DELIM = r"\s=,;()\[\]{}<>\"'|"
_TLDS = (
    r"(?:com|net|org|edu|gov|mil|io|info|biz|local|lan|internal|localdomain|cn|hk|uk|de|"
    r"jp|fr|ru|us|ca|au|in|nl|br|it|es|se|ch|kr|tw|eu)"
)

_TOKEN_VARIABLE = re.compile(
    "|".join(
        [
            # URLs and paths
            r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+",
            r"(?<![\w./~-])(?:~|\.{1,2})?(?:/[\w.@%+~:-]+){2,}/?",
            # host names with a known top-level domain
            rf"(?<![\w.-])[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*\.{_TLDS}(?::\d+)?(?![\w.-])",
            # the value of key=value
            r"(?<=[\w.-]=)(?:\"[^\"]*\"|'[^']*'|[^\s,;()\[\]{}\"'|&]+)",
            # the value of word:value when it starts with a digit (the word stays)
            rf"(?<=[A-Za-z_]{{2}}:)\d[^{_DELIM}]*",
            # hex strings without a digit (a MAC address, a hash made only of letters)
            r"^(?:[0-9a-fA-F]{1,2}[:-]){3,}[0-9a-fA-F]{1,2}$|^[0-9a-f]{12,}$",
            # any chunk holding a digit
            rf"(?<![^{_DELIM}])(?![A-Za-z_]{{2,}}:\d)[^{_DELIM}\d]*\d[^{_DELIM}]*",
        ]
    )
)
#: Tokens worth the regular expression: a digit, a path, a key=value, a host name.
_INTERESTING = re.compile(r"[\d/=]|\.[a-z]|^[0-9a-fA-F:-]{12,}$")
_DIGIT = re.compile(r"\d")
_DATE_WORDS = frozenset(
    [
        "Mon",
        "Tue",
        "Wed",
        "Thu",
        "Fri",
        "Sat",
        "Sun",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "May",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Oct",
        "Nov",
        "Dec",
    ]
)
_UNITS = frozenset(
    [
        "ms",
        "us",
        "µs",
        "ns",
        "s",
        "sec",
        "secs",
        "second",
        "seconds",
        "min",
        "mins",
        "minute",
        "minutes",
        "h",
        "hr",
        "hrs",
        "hour",
        "hours",
        "day",
        "days",
        "B",
        "KB",
        "MB",
        "GB",
        "TB",
        "PB",
        "KiB",
        "MiB",
        "GiB",
        "TiB",
        "kb",
        "mb",
        "gb",
        "byte",
        "bytes",
    ]
)
_FOLDABLE = frozenset((WILDCARD, WILDCARD + ","))
_cache: dict[str, str] = {}
_CACHE_LIMIT = 400_000


def _mask_token(token: str) -> str:
    if _INTERESTING.search(token) is None:
        return token
    if token[0] == "<" and token[1:2].isdigit():
        token = token[1:]
    masked = _TOKEN_VARIABLE.sub(WILDCARD, token)
    # a digit left over (``host.example.org/10.1.2.3:80``) makes the whole token a value
    return WILDCARD if _DIGIT.search(masked) else masked


def mask(message: str) -> str:
    """``message`` with every variable part replaced by ``<*>`` (runs folded into one)."""
    out: list[str] = []
    dates = False
    cache = _cache
    for token in message.split():
        masked = cache.get(token)
        if masked is None:
            masked = _mask_token(token)
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[token] = masked
        if out:
            last = out[-1]
            if masked in _FOLDABLE and last in _FOLDABLE:
                out[-1] = masked
                continue
            if last.endswith(WILDCARD):
                if masked == WILDCARD:
                    continue
                unit = masked.rstrip(",;:.)]")
                if unit in _UNITS:
                    out[-1] = last + masked[len(unit) :]
                    continue
        if masked in _DATE_WORDS:
            dates = True
        out.append(masked)
    if dates:
        _mask_dates(out)
    return " ".join(out)


def _mask_dates(tokens: list[str]) -> None:
    """Day and month names next to a masked token are part of a date."""
    changed = True
    while changed:
        changed = False
        for index, token in enumerate(tokens):
            if token in _DATE_WORDS and (
                (index and tokens[index - 1] == WILDCARD)
                or (index + 1 < len(tokens) and tokens[index + 1] == WILDCARD)
            ):
                tokens[index] = WILDCARD
                changed = True
    index = 1
    while index < len(tokens):
        if tokens[index] == WILDCARD and tokens[index - 1] == WILDCARD:
            del tokens[index]
        else:
            index += 1
