"""Host entries as inventories write them: ``name``, ``name:port``, ``[v6]:port``, ranges.

A host entry may carry numeric or alphabetic ranges, Ansible style::

    web[01:20].example.com      web01 … web20 (leading zeros keep the width)
    db-[a:f].x                  db-a … db-f
    app[1:10:2]                 app1, app3, app5, app7, app9

:func:`parse_host_entry` returns the expanded names and the port, or raises
:class:`AddressError` (a ``ValueError``); callers add the file and line.
"""

from __future__ import annotations

import ipaddress
import re
import string

__all__ = [
    "MAX_EXPANSION",
    "AddressError",
    "is_bracketed_ipv6",
    "parse_host_entry",
    "parse_port",
]

#: A host entry never expands to more names than this (a typo like ``[0:99999999]``).
MAX_EXPANSION = 100_000

_BRACKETED_V6 = re.compile(r"^\[([^\[\]]+)\](?::(.*))?$")
_NUMBER = re.compile(r"^[0-9]+$")


class AddressError(ValueError):
    """A host entry that cannot be understood; the message says why."""


def parse_port(text: str) -> int:
    """A TCP port from its decimal text, 1–65535."""
    if not _NUMBER.match(text) or len(text) > 5:
        raise AddressError(f"invalid port {text!r}: expected a number from 1 to 65535")
    port = int(text)
    if not 1 <= port <= 65535:
        raise AddressError(f"invalid port {text!r}: expected a number from 1 to 65535")
    return port


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def is_bracketed_ipv6(entry: str) -> bool:
    """True for ``[v6]`` and ``[v6]:port`` host entries."""
    match = _BRACKETED_V6.match(entry)
    return bool(match and _is_ipv6(match.group(1)))


def _split_port(entry: str) -> tuple[str, int | None]:
    """Separate ``name:port``; IPv6 addresses keep their colons."""
    match = _BRACKETED_V6.match(entry)
    if match and _is_ipv6(match.group(1)):
        port_text = match.group(2)
        return match.group(1), None if port_text is None else parse_port(port_text)
    colons = _colons_outside_brackets(entry)
    if not colons:
        return entry, None
    if len(colons) == 1:
        name, port_text = entry[: colons[0]], entry[colons[0] + 1 :]
        if not name:
            raise AddressError(f"invalid host {entry!r}: empty name before ':'")
        return name, parse_port(port_text)
    if _is_ipv6(entry):
        return entry, None
    raise AddressError(
        f"invalid host {entry!r}: too many ':' (write IPv6 with a port as [addr]:port)"
    )


def _colons_outside_brackets(entry: str) -> list[int]:
    colons: list[int] = []
    depth = 0
    for index, char in enumerate(entry):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == ":" and depth == 0:
            colons.append(index)
    return colons


def _range_values(spec: str, entry: str) -> list[str]:
    """The values of one ``beg:end[:step]`` range, as strings."""
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise AddressError(
            f"invalid range [{spec}] in {entry!r}: expected [begin:end] or [begin:end:step]"
        )
    beg, end = parts[0].strip() or "0", parts[1].strip()
    step_text = parts[2].strip() if len(parts) == 3 else "1"
    if not end:
        raise AddressError(f"invalid range [{spec}] in {entry!r}: missing end value")
    if not _NUMBER.match(step_text) or int(step_text) < 1:
        raise AddressError(f"invalid range [{spec}] in {entry!r}: step must be a positive number")
    step = int(step_text)
    letters = string.ascii_letters
    if len(beg) == 1 and len(end) == 1 and beg in letters and end in letters:
        first, last = letters.index(beg), letters.index(end)
        if first > last:
            raise AddressError(f"invalid range [{spec}] in {entry!r}: {beg!r} comes after {end!r}")
        return list(letters[first : last + 1 : step])
    if not (_NUMBER.match(beg) and _NUMBER.match(end)) or len(beg) > 9 or len(end) > 9:
        raise AddressError(
            f"invalid range [{spec}] in {entry!r}: use numbers or single letters on both sides"
        )
    width = 0
    if beg.startswith("0") and len(beg) > 1:
        if len(end) != len(beg):
            raise AddressError(
                f"invalid range [{spec}] in {entry!r}: zero-padded ranges need "
                "begin and end of the same width"
            )
        width = len(beg)
    first, last = int(beg), int(end)
    if first > last:
        raise AddressError(f"invalid range [{spec}] in {entry!r}: {first} is greater than {last}")
    if (last - first) // step + 1 > MAX_EXPANSION:
        raise AddressError(
            f"range [{spec}] in {entry!r} expands to more than {MAX_EXPANSION} hosts"
        )
    return [str(value).zfill(width) for value in range(first, last + 1, step)]


def expand_ranges(name: str, entry: str | None = None) -> list[str]:
    """Every name a (possibly ranged) host name stands for, in order."""
    entry = entry if entry is not None else name
    open_at = name.find("[")
    close_at = name.find("]")
    if open_at < 0:
        if close_at >= 0:
            raise AddressError(f"unbalanced ']' in host {entry!r}")
        return [name]
    if close_at < 0 or close_at < open_at:
        raise AddressError(f"unbalanced brackets in host {entry!r}")
    if "[" in name[open_at + 1 : close_at]:
        raise AddressError(f"nested '[' in host range of {entry!r}")
    head, spec, tail = name[:open_at], name[open_at + 1 : close_at], name[close_at + 1 :]
    tails = expand_ranges(tail, entry)
    values = _range_values(spec, entry)
    if len(values) * len(tails) > MAX_EXPANSION:
        raise AddressError(f"host {entry!r} expands to more than {MAX_EXPANSION} hosts")
    return [f"{head}{value}{rest}" for value in values for rest in tails]


def parse_host_entry(entry: str) -> tuple[list[str], int | None]:
    """Names (ranges expanded) and port of one host entry such as ``web[1:3]:2222``."""
    entry = entry.strip()
    if not entry:
        raise AddressError("empty host name")
    if any(char.isspace() for char in entry):
        raise AddressError(f"invalid host {entry!r}: contains whitespace")
    name, port = _split_port(entry)
    if _is_ipv6(name):
        return [name], port
    return expand_ranges(name, entry), port
