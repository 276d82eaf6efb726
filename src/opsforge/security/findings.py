"""The one finding model of opsforge's security checks (scan, audit, harden).

A :class:`Finding` is immutable data: which check fired (``rule_id``, ``title``,
``severity``, ``confidence``, ``rationale``, ``remediation``), where
(:class:`Location`: a file path/line/column/snippet, or a host), which
scanner produced it (``tool``) and a stable :attr:`Finding.fingerprint`.

The fingerprint is content based: a hash of the rule id, the location's
*relative* path (or the host) and a ``key`` — by default the whitespace-normalised
snippet, for secrets a hash of the secret, for advisories ``package==version``.
Line and column numbers and the checkout directory are not part of it, so a
finding keeps its fingerprint when lines move or the tree is checked out
elsewhere. Identical findings in one file (same rule, same snippet) are told
apart by ``occurrence`` (0, 1, ...), which :func:`number_occurrences` assigns.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Self

__all__ = [
    "Check",
    "Confidence",
    "Finding",
    "Location",
    "Severity",
    "Suppression",
    "fingerprint_of",
    "normalize_snippet",
    "number_occurrences",
]

#: Version tag of the fingerprint scheme; part of the SARIF partialFingerprints key.
FINGERPRINT_VERSION = "opsforge/v1"


class _Level(enum.IntEnum):
    """An ordered level named in lower case on the command line and in reports."""

    @classmethod
    def parse(cls, text: str) -> Self:
        """``"high"``/``"HIGH"`` → ``HIGH``; :class:`ValueError` names the choices."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(member.name.lower() for member in cls)
            kind = cls.__name__.lower()
            raise ValueError(f"unknown {kind} {text!r} (choose from {choices})") from None

    @property
    def label(self) -> str:
        return self.name.lower()


class Severity(_Level):
    """How bad a finding is; ordered, so ``severity >= Severity.HIGH`` works."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


class Confidence(_Level):
    """How sure the check is that the finding is real."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3


@dataclass(frozen=True)
class Location:
    """Where a finding is: a file (``path`` relative to the scan root, POSIX
    separators) with optional 1-based ``line``/``column``, or a ``host`` (fleet
    audits), optionally with a path on that host."""

    path: str | None = None
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    snippet: str | None = None
    host: str | None = None

    def __post_init__(self) -> None:
        if self.path is None and self.host is None:
            raise ValueError("a Location needs a path or a host")

    def __str__(self) -> str:
        parts = []
        if self.host is not None:
            parts.append(self.host)
        if self.path is not None:
            where = self.path
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            parts.append(where)
        return " ".join(parts)


@dataclass(frozen=True)
class Suppression:
    """An inline ``# opsforge: ignore[RULE] reason`` that silenced a finding."""

    reason: str
    line: int | None = None


@dataclass(frozen=True)
class Finding:
    """One result of one check at one place. See the module docstring."""

    rule_id: str
    title: str
    severity: Severity
    location: Location
    tool: str
    confidence: Confidence = Confidence.HIGH
    message: str = ""
    rationale: str = ""
    remediation: str = ""
    help_uri: str | None = None
    tags: tuple[str, ...] = ()
    key: str | None = None
    occurrence: int = 0
    suppression: Suppression | None = None
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fingerprint", fingerprint_of(self))

    @property
    def text(self) -> str:
        """The per-result message, falling back to the check's title."""
        return self.message or self.title

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None


@dataclass(frozen=True)
class Check:
    """The static description of one check (rule): what every finding of it shares.

    >>> ROOT_USER = Check("docker.root-user", "Container runs as root", Severity.MEDIUM,
    ...                   tool="config", rationale="...", remediation="Add USER app.")
    >>> ROOT_USER.at(Location(path="Dockerfile", line=1, snippet="FROM python:3.12"))
    ...                                                      # doctest: +SKIP
    """

    id: str
    title: str
    severity: Severity
    tool: str
    rationale: str = ""
    remediation: str = ""
    help_uri: str | None = None
    tags: tuple[str, ...] = ()

    def at(
        self,
        location: Location,
        *,
        message: str = "",
        severity: Severity | None = None,
        confidence: Confidence = Confidence.HIGH,
        key: str | None = None,
    ) -> Finding:
        """A finding of this check at ``location`` (``severity`` overrides the default)."""
        return Finding(
            rule_id=self.id,
            title=self.title,
            severity=self.severity if severity is None else severity,
            location=location,
            tool=self.tool,
            confidence=confidence,
            message=message,
            rationale=self.rationale,
            remediation=self.remediation,
            help_uri=self.help_uri,
            tags=self.tags,
            key=key,
        )


def normalize_snippet(text: str) -> str:
    """Collapse all whitespace runs to one space (indentation changes keep the key)."""
    return " ".join(text.split())


def fingerprint_of(finding: Finding) -> str:
    """The content-based fingerprint (32 hex chars) of ``finding``; see the module doc."""
    location = finding.location
    where = f"host:{location.host}" if location.host is not None else ""
    if location.path is not None:
        where += f"path:{_relative_posix(location.path)}"
    if finding.key is not None:
        key = finding.key
    elif location.snippet is not None:
        key = normalize_snippet(location.snippet)
    else:
        key = ""
    material = "\0".join(
        (FINGERPRINT_VERSION, finding.rule_id, where, key, str(finding.occurrence))
    )
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _relative_posix(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def number_occurrences(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Give findings that would share a fingerprint occurrences 0, 1, 2, ... in order
    of their position, so each fingerprint is unique and stays stable when lines
    move. Returns the findings sorted by place (path/host, line, column, rule)."""
    ordered = sorted(findings, key=sort_key)
    seen: dict[str, int] = {}
    numbered = []
    for finding in ordered:
        base = replace(finding, occurrence=0) if finding.occurrence else finding
        count = seen.get(base.fingerprint, 0)
        seen[base.fingerprint] = count + 1
        numbered.append(replace(base, occurrence=count) if count else base)
    return tuple(numbered)


def sort_key(finding: Finding) -> tuple[str, str, int, int, str]:
    location = finding.location
    return (
        location.host or "",
        location.path or "",
        location.line or 0,
        location.column or 0,
        finding.rule_id,
    )
