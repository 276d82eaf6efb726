"""Pinned dependencies: which package versions a tree or environment uses.

Readers for ``requirements*.txt``, ``poetry.lock``, ``uv.lock``, ``Pipfile.lock``
and installed environments (``*.dist-info/METADATA``) yield :class:`Pin` values
with the file and line they came from, plus problems for what cannot be checked
(unpinned requirements, VCS/URL sources, unparsable files). :func:`match_pins`
turns pins into findings against an :class:`~.advisories.AdvisoryDB`.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from opsforge.security.findings import Finding, Location
from opsforge.security.report import Problem
from opsforge.security.scan.advisories import Advisory, AdvisoryDB

__all__ = ["Pin", "dependency_kind", "match_pins", "read_environment", "read_pins"]

TOOL = "dependencies"
_REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?P<spec>[^;#]*)"
)
_PINNED = re.compile(r"^===?\s*(?P<version>[A-Za-z0-9.!+_-]+)\s*$")


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    path: str
    line: int | None
    snippet: str


def dependency_kind(rel: str) -> str | None:
    name = os.path.basename(rel)
    if re.fullmatch(r"requirements.*\.txt|.*requirements\.txt|constraints.*\.txt", name):
        return "requirements"
    if name in {"poetry.lock", "uv.lock", "Pipfile.lock"}:
        return name
    if name == "METADATA" and os.path.dirname(rel).endswith(".dist-info"):
        return "installed"
    return None


def _line_of(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def _requirements(rel: str, text: str) -> tuple[list[Pin], list[Problem]]:
    pins, problems = [], []
    logical = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not logical:
            start = number
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        entry, logical = logical.strip(), ""
        if not entry or entry.startswith("-"):
            continue  # options: -r/-c/-e/--hash/--index-url ...
        entry = re.sub(r"\s--hash[= ]\S+", "", entry)
        if "://" in entry or entry.startswith((".", "/")):
            problems.append(
                Problem(
                    f"not checked: {entry[:80]} is a URL, VCS or local requirement",
                    path=rel,
                    line=start,
                    tool=TOOL,
                )
            )
            continue
        match = _REQUIREMENT.match(entry)
        if match is None:
            problems.append(Problem(f"not checked: cannot parse '{entry[:80]}'", path=rel,
                                    line=start, tool=TOOL))  # fmt: skip
            continue
        pinned = _PINNED.match(match.group("spec").strip())
        if pinned is None:
            problems.append(
                Problem(
                    f"not checked: {match.group('name')} is not pinned to one version "
                    f"('{match.group('spec').strip() or 'any'}'); pin it (==) or scan the "
                    "lock file or installed environment",
                    path=rel,
                    line=start,
                    tool=TOOL,
                )
            )
            continue
        pins.append(Pin(match.group("name"), pinned.group("version"), rel, start, entry))
    return pins, problems


def _toml_lock(rel: str, text: str) -> tuple[list[Pin], list[Problem]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [], [Problem(f"not checked: broken TOML: {exc}", path=rel, tool=TOOL)]
    pins, problems = [], []
    for package in data.get("package") or []:
        if not isinstance(package, dict) or "name" not in package:
            continue
        name = str(package["name"])
        source = package.get("source") or {}
        source_type = source.get("type") if isinstance(source, dict) else None
        keys = set(source) if isinstance(source, dict) else set()
        line = _line_of(text, f'name = "{name}"')
        if keys & {"editable", "virtual", "directory", "path"} or source_type in {
            "directory",
            "file",
        }:
            continue  # the project itself or local code
        if keys & {"git", "url"} or source_type in {"git", "url"}:
            problems.append(Problem(f"not checked: {name} comes from a VCS/URL source",
                                    path=rel, line=line, tool=TOOL))  # fmt: skip
            continue
        if "version" not in package:
            problems.append(Problem(f"not checked: {name} has no version", path=rel, line=line,
                                    tool=TOOL))  # fmt: skip
            continue
        version = str(package["version"])
        pins.append(Pin(name, version, rel, line, f"{name} {version}"))
    return pins, problems


def _pipfile_lock(rel: str, text: str) -> tuple[list[Pin], list[Problem]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [Problem(f"not checked: broken JSON: {exc.msg}", path=rel, line=exc.lineno,
                            tool=TOOL)]  # fmt: skip
    pins, problems = [], []
    for section in ("default", "develop"):
        packages = data.get(section) if isinstance(data, dict) else None
        for name, info in (packages or {}).items():
            line = _line_of(text, f'"{name}":')
            version = str(info.get("version", "")) if isinstance(info, dict) else ""
            pinned = _PINNED.match(version)
            if pinned is None:
                problems.append(Problem(f"not checked: {name} has no pinned version",
                                        path=rel, line=line, tool=TOOL))  # fmt: skip
                continue
            pins.append(Pin(name, pinned.group("version"), rel, line, f"{name}{version}"))
    return pins, problems


def _metadata(rel: str, text: str) -> tuple[list[Pin], list[Problem]]:
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        headers.setdefault(key.strip().lower(), value.strip())
    if "name" not in headers or "version" not in headers:
        return [], [Problem("not checked: METADATA without Name/Version", path=rel, tool=TOOL)]
    name, version = headers["name"], headers["version"]
    return [Pin(name, version, rel, None, f"{name} {version} (installed)")], []


def read_pins(rel: str, text: str, kind: str) -> tuple[list[Pin], list[Problem]]:
    """The pins in one dependency file of ``kind`` (see :func:`dependency_kind`)."""
    if kind == "requirements":
        return _requirements(rel, text)
    if kind in {"poetry.lock", "uv.lock"}:
        return _toml_lock(rel, text)
    if kind == "Pipfile.lock":
        return _pipfile_lock(rel, text)
    return _metadata(rel, text)


def read_environment(env: Path) -> tuple[list[Pin], list[Problem]]:
    """Installed distributions of a site-packages directory or a virtualenv."""
    roots = [env]
    if (env / "pyvenv.cfg").exists() or (env / "lib").is_dir():
        roots = sorted(env.glob("lib/python*/site-packages")) or [env]
    pins: list[Pin] = []
    problems: list[Problem] = []
    found = False
    for root in roots:
        for meta in sorted(root.glob("*.dist-info/METADATA")):
            found = True
            try:
                text = meta.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                problems.append(Problem(f"not checked: {exc.strerror}", path=str(meta), tool=TOOL))
                continue
            more_pins, more_problems = _metadata(str(meta), text)
            pins.extend(more_pins)
            problems.extend(more_problems)
    if not found:
        problems.append(Problem(f"{env}: no installed distributions (*.dist-info) found",
                                path=str(env), tool=TOOL))  # fmt: skip
    return pins, problems


def _remediation(name: str, version: Version, advisory: Advisory) -> str:
    fixed = []
    for raw in advisory.fixed:
        try:
            candidate = Version(raw)
        except InvalidVersion:
            continue
        if candidate > version:
            fixed.append(candidate)
    if fixed:
        return f"Upgrade {name} to {min(fixed)} or later."
    return f"No fixed release is listed; remove {name} or mitigate as {advisory.id} describes."


def match_pins(pins: Iterable[Pin], db: AdvisoryDB) -> tuple[list[Finding], list[Problem]]:
    findings, problems = [], []
    for pin in pins:
        try:
            advisories = db.match(pin.name, pin.version)
            version = Version(pin.version)
        except InvalidVersion:
            message = f"not checked: {pin.name} {pin.version} is not a PEP 440 version"
            problems.append(Problem(message, path=pin.path, line=pin.line, tool=TOOL))
            continue
        for advisory in advisories:
            aliases = f" ({', '.join(advisory.aliases)})" if advisory.aliases else ""
            findings.append(
                Finding(
                    rule_id=advisory.id,
                    title=advisory.summary,
                    severity=advisory.severity,
                    location=Location(path=pin.path, line=pin.line, snippet=pin.snippet),
                    tool=TOOL,
                    message=f"{pin.name} {pin.version} is affected by {advisory.id}{aliases}: "
                    f"{advisory.summary}",
                    rationale=advisory.summary,
                    remediation=_remediation(pin.name, version, advisory),
                    help_uri=advisory.url,
                    tags=("dependency", *advisory.aliases),
                    key=f"{canonicalize_name(pin.name)}=={pin.version}",
                )
            )
    return findings, problems
