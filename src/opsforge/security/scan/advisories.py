"""An offline advisory database in OSV format, and matching versions against it.

The database is a directory of OSV records (``*.json``, or ``*.yaml``/``*.yml``
as in the PyPA advisory-database repository, any depth) or an archive of one
(``.zip`` such as OSV's ``PyPI/all.zip``, ``.tar.gz``/``.tgz``/``.tar``).
Only ``affected`` entries of the ``PyPI`` ecosystem are used. A version is
affected when it is listed in ``versions`` or falls in an ``ECOSYSTEM``/
``SEMVER`` range (``introduced``/``fixed``/``last_affected``/``limit`` events,
evaluated as the OSV specification describes, compared as PEP 440 versions
with :mod:`packaging`). Withdrawn advisories are ignored.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from opsforge.errors import InputError
from opsforge.security.findings import Severity
from opsforge.security.scan.cvss import cvss3_base_score

__all__ = ["Advisory", "AdvisoryDB", "AdvisoryDBError", "load_advisory_db"]


class AdvisoryDBError(InputError):
    """The advisory database is missing or unreadable."""


@dataclass(frozen=True)
class Advisory:
    id: str
    summary: str
    aliases: tuple[str, ...]
    severity: Severity
    fixed: tuple[str, ...]
    url: str | None
    #: per package: explicit versions and ranges (lists of (event, version) pairs)
    versions: frozenset[str] = field(default_factory=frozenset)
    ranges: tuple[tuple[tuple[str, str], ...], ...] = ()


def _severity(record: dict[str, Any]) -> Severity:
    specific = record.get("database_specific")
    label = specific.get("severity") if isinstance(specific, dict) else None
    if isinstance(label, str):
        label = {"MODERATE": "MEDIUM"}.get(label.upper(), label.upper())
        if label in Severity.__members__:
            return Severity[label]
    for item in record.get("severity") or []:
        if isinstance(item, dict) and str(item.get("type", "")).startswith("CVSS_V3"):
            score = cvss3_base_score(str(item.get("score", "")))
            if score is not None:
                if score >= 9.0:
                    return Severity.CRITICAL
                if score >= 7.0:
                    return Severity.HIGH
                if score >= 4.0:
                    return Severity.MEDIUM
                return Severity.LOW
    return Severity.MEDIUM


def _url(record: dict[str, Any]) -> str | None:
    for ref in record.get("references") or []:
        if isinstance(ref, dict) and ref.get("type") in {"ADVISORY", "WEB"} and ref.get("url"):
            return str(ref["url"])
    return None


def _entries(record: dict[str, Any]) -> Iterator[tuple[str, Advisory]]:
    if record.get("withdrawn") or not isinstance(record.get("id"), str):
        return
    severity = _severity(record)
    for affected in record.get("affected") or []:
        package = affected.get("package") if isinstance(affected, dict) else None
        if not isinstance(package, dict) or package.get("ecosystem") != "PyPI":
            continue
        name = canonicalize_name(str(package.get("name", "")))
        ranges = []
        fixed = []
        for range_ in affected.get("ranges") or []:
            if not isinstance(range_, dict) or range_.get("type") not in {"ECOSYSTEM", "SEMVER"}:
                continue
            events = []
            for event in range_.get("events") or []:
                for kind, version in event.items() if isinstance(event, dict) else []:
                    events.append((str(kind), str(version)))
                    if kind == "fixed":
                        fixed.append(str(version))
            ranges.append(tuple(events))
        yield (
            name,
            Advisory(
                id=record["id"],
                summary=str(
                    record.get("summary") or record.get("details", "")[:200] or record["id"]
                ),
                aliases=tuple(str(a) for a in record.get("aliases") or []),
                severity=severity,
                fixed=tuple(fixed),
                url=_url(record),
                versions=frozenset(str(v) for v in affected.get("versions") or []),
                ranges=tuple(ranges),
            ),
        )


def _key(version: str) -> Version:
    return Version("0") if version == "0" else Version(version)


def _in_range(version: Version, events: tuple[tuple[str, str], ...]) -> bool:
    """OSV range evaluation: walk events sorted by version, toggling 'affected'."""
    parsed = []
    for kind, raw in events:
        try:
            parsed.append((_key(raw), kind))
        except InvalidVersion:
            continue
    parsed.sort(key=lambda item: (item[0], item[1] != "introduced"))
    affected = False
    for at, kind in parsed:
        if kind == "introduced" and version >= at:
            affected = True
        elif (
            (kind == "fixed" and version >= at)
            or (kind == "last_affected" and version > at)
            or (kind == "limit" and version >= at)
        ):
            affected = False
    return affected


class AdvisoryDB:
    """Advisories indexed by canonical package name."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.by_package: dict[str, list[Advisory]] = {}
        self.records = 0
        #: records that could not be parsed (the check is incomplete without them)
        self.unreadable: list[str] = []

    def add(self, record: Any) -> None:
        if not isinstance(record, dict):
            return
        self.records += 1
        for name, advisory in _entries(record):
            self.by_package.setdefault(name, []).append(advisory)

    def match(self, name: str, version: str) -> list[Advisory]:
        """Advisories affecting ``name==version``; :class:`InvalidVersion` if unparsable."""
        candidates = self.by_package.get(canonicalize_name(name), [])
        if not candidates:
            return []
        parsed = Version(version)
        hits = []
        for advisory in candidates:
            listed = version in advisory.versions or any(
                _same(parsed, listed) for listed in advisory.versions
            )
            if listed or any(_in_range(parsed, events) for events in advisory.ranges):
                hits.append(advisory)
        return hits


def _same(version: Version, listed: str) -> bool:
    try:
        return Version(listed) == version
    except InvalidVersion:
        return False


def _parse_record(name: str, data: bytes) -> Any:
    if name.endswith(".json"):
        return json.loads(data)
    return yaml.safe_load(io.BytesIO(data))


def _is_record(name: str) -> bool:
    return name.endswith((".json", ".yaml", ".yml")) and not os.path.basename(name).startswith(".")


def load_advisory_db(path: Path) -> AdvisoryDB:
    """Load a directory or archive of OSV records; :class:`AdvisoryDBError` if unusable."""
    db = AdvisoryDB(str(path))
    bad = db.unreadable
    try:
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                if file.is_file() and _is_record(file.name):
                    _load_one(db, str(file), file.read_bytes, bad)
        elif path.is_file() and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if not info.is_dir() and _is_record(info.filename):
                        _load_one(db, info.filename, lambda i=info: archive.read(i), bad)
        elif path.is_file() and tarfile.is_tarfile(path):
            with tarfile.open(path) as archive:
                for member in archive:
                    if member.isfile() and _is_record(member.name):
                        handle = archive.extractfile(member)
                        if handle is not None:
                            _load_one(db, member.name, handle.read, bad)
        elif path.exists():
            raise AdvisoryDBError(
                f"{path}: not a directory, .zip or .tar archive of OSV advisories"
            )
        else:
            raise AdvisoryDBError(
                f"advisory database {path} does not exist; point --db at a directory or "
                "archive of OSV records (e.g. the PyPA advisory-database or OSV's PyPI/all.zip) "
                "or fetch one with --update-db"
            )
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise AdvisoryDBError(f"{path}: cannot read advisory database: {exc}") from None
    if db.records == 0:
        raise AdvisoryDBError(f"{path}: no OSV advisories found in it")
    return db


def _load_one(db: AdvisoryDB, name: str, read: Any, bad: list[str]) -> None:
    try:
        db.add(_parse_record(name, read()))
    except (ValueError, yaml.YAMLError, UnicodeDecodeError):
        bad.append(name)
