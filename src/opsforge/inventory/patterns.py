"""Host patterns, Ansible's syntax.

A pattern is a list of atoms separated by ``:`` or ``,`` (or whitespace)::

    web:db            union
    web:&prod         intersection
    web:!db           exclusion
    ~web\\d+          regular expression (``re.match`` against names)
    web*, db[1-3]     shell globs (``fnmatch``), against group and host names
    web[0] web[-1]    subscripts on the hosts an atom matches (inventory order)
    web[1:3] web[2:]  inclusive ranges of them

Atoms combine like Ansible: the union of the plain atoms (every host when there
is none) is intersected with each ``&`` atom, then each ``!`` atom is removed.
An atom naming nothing known is an error that suggests close names; an atom
naming a known but empty group simply adds no hosts.
"""

from __future__ import annotations

import difflib
import fnmatch
import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

from opsforge.errors import InventoryError

__all__ = ["PatternTarget", "close_names", "limit_atoms", "select_names", "split_pattern"]

_SUBSCRIPT = re.compile(r"^(.+)\[(?:(-?[0-9]{1,18})|([0-9]{0,18}):([0-9]{0,18}))\]$", re.DOTALL)
_GLOB_CHARS = frozenset("*?[")


class PatternTarget(Protocol):
    """What patterns are evaluated against (an :class:`Inventory`)."""

    @property
    def host_names(self) -> Sequence[str]: ...

    @property
    def group_names(self) -> Sequence[str]: ...

    def has_group(self, name: str) -> bool: ...

    def has_host(self, name: str) -> bool: ...

    def group_member_names(self, group: str) -> frozenset[str]: ...

    def host_position(self, host: str) -> int: ...


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _split_piece(piece: str, pattern: str) -> list[str]:
    """Split on ``:`` and whitespace outside ``[...]``; a backslash escapes the next char."""
    atoms: list[str] = []
    current: list[str] = []
    in_brackets = False
    chars = iter(piece)
    for char in chars:
        if char == "\\":
            current.append(char)
            current.append(next(chars, ""))
        elif in_brackets:
            current.append(char)
            in_brackets = char != "]"
        elif char == "[":
            current.append(char)
            in_brackets = True
        elif char == "]":
            raise InventoryError(f"unbalanced ']' in host pattern {pattern!r}")
        elif char == ":" or char.isspace():
            atoms.append("".join(current))
            current = []
        else:
            current.append(char)
    if in_brackets:
        raise InventoryError(f"unbalanced '[' in host pattern {pattern!r}")
    atoms.append("".join(current))
    return [atom for atom in atoms if atom]


def split_pattern(pattern: str) -> list[str]:
    """The atoms of a pattern, prefixes (``!``, ``&``) kept."""
    atoms: list[str] = []
    for piece in pattern.split(","):
        piece = piece.strip()
        if not piece:
            continue
        if _is_ipv6(piece.lstrip("!&")):
            atoms.append(piece)
        else:
            atoms.extend(_split_piece(piece, pattern))
    return atoms


def limit_atoms(limit: str, cwd: Path, *, is_host: Callable[[str], bool]) -> list[str]:
    """The atoms of a ``--limit`` value; ``@file`` reads one pattern per line."""
    atoms: list[str] = []
    for atom in split_pattern(limit):
        if not atom.startswith("@") or is_host(atom):
            atoms.append(atom)
            continue
        path = cwd / atom[1:]
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InventoryError(f"cannot read limit file: {exc}", path=str(path)) from exc
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                atoms.extend(split_pattern(line))
    return atoms


def _compile(expression: str, atom: str) -> re.Pattern[str]:
    try:
        return re.compile(expression)
    except (re.error, OverflowError, RecursionError, ValueError) as exc:
        raise InventoryError(f"invalid host pattern {atom!r}: {exc}") from exc


def close_names(name: str, names: Sequence[str], limit: int = 5) -> list[str]:
    """Names that look like ``name`` (typos), most alike first, ties by name."""
    close = difflib.get_close_matches(name, names, n=limit, cutoff=0.5)

    def closeness(candidate: str) -> tuple[float, str]:
        return -difflib.SequenceMatcher(None, name, candidate).ratio(), candidate

    return sorted(close, key=closeness)


def _unknown(target: PatternTarget, name: str, atom: str) -> InventoryError:
    names = [*target.group_names, *target.host_names]
    hints = close_names(name, names)
    if name and sum(candidate.startswith(name) for candidate in names) > 1:
        hints.append(f"{name}*")
    text = f"no host or group matches {atom!r}"
    if hints:
        text += f"; did you mean: {', '.join(dict.fromkeys(hints))}?"
    return InventoryError(text)


def _apply_subscript(
    names: list[str], index: str | None, start: str | None, end: str | None
) -> list[str]:
    if index is not None:
        position = int(index)
        return [names[position]] if -len(names) <= position < len(names) else []
    first = int(start) if start else 0
    if end:
        return names[first : int(end) + 1]
    return names[first:]


def _match_atom(target: PatternTarget, atom: str) -> set[str]:
    """The host names one atom (without prefix) stands for."""
    if atom.startswith("~"):
        regex = _compile(atom[1:], atom)
        groups = [name for name in target.group_names if regex.match(name)]
        hosts = [name for name in target.host_names if regex.match(name)]
        if not groups and not hosts:
            raise _unknown(target, atom[1:], atom)
        return _union(target, groups, hosts)
    expression, subscript = atom, None
    match = _SUBSCRIPT.match(atom)
    if match:
        expression, *rest = match.groups()
        subscript = (rest[0], rest[1], rest[2])
    if _GLOB_CHARS & set(expression):
        regex = _compile(fnmatch.translate(expression), atom)
        groups = [name for name in target.group_names if regex.match(name)]
        hosts = [name for name in target.host_names if regex.match(name)]
    elif target.has_group(expression):
        groups, hosts = [expression], []
    else:
        groups, hosts = [], [expression] if target.has_host(expression) else []
    if not groups and not hosts:
        raise _unknown(target, expression, atom)
    found = _union(target, groups, hosts)
    if subscript is None:
        return found
    ordered = sorted(found, key=target.host_position)
    return set(_apply_subscript(ordered, *subscript))


def _union(target: PatternTarget, groups: Iterable[str], hosts: Iterable[str]) -> set[str]:
    found = set(hosts)
    for group in groups:
        found |= target.group_member_names(group)
    return found


def _evaluate(target: PatternTarget, atoms: list[str], text: str) -> set[str]:
    if not atoms:
        raise InventoryError(f"empty host pattern {text!r}")
    plain = [atom for atom in atoms if atom[0] not in "!&"]
    result: set[str] = set()
    for atom in plain:
        result |= _match_atom(target, atom)
    if not plain:
        result = set(target.host_names)
    for prefix in "&!":
        for atom in atoms:
            if atom[0] != prefix:
                continue
            if len(atom) == 1:
                raise InventoryError(f"empty pattern after {prefix!r} in {text!r}")
            matched = _match_atom(target, atom[1:])
            result = result & matched if prefix == "&" else result - matched
    return result


def select_names(
    target: PatternTarget, pattern: str, limit: Sequence[str] | None = None
) -> list[str]:
    """Host names matching ``pattern`` (and the ``limit`` atoms), in inventory order."""
    selected = _evaluate(target, split_pattern(pattern), pattern)
    if limit is not None:
        selected &= _evaluate(target, list(limit), " ".join(limit))
    return sorted(selected, key=target.host_position)
