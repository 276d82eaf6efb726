"""The textfile collector: ``*.prom`` files in a directory, merged into the scrape.

Compatible with node_exporter's: files in the text format 0.0.4 (HELP/TYPE comments,
samples without timestamps), ``node_textfile_mtime_seconds{file}`` per file read and
``node_textfile_scrape_error`` (1 when any file could not be read or parsed; that file
is left out and the problem logged with file:line, the rest are served).
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from opsforge.observe.agent.collectors.base import ScrapeContext
from opsforge.observe.agent.exposition import Family, Labels, MetricType

__all__ = ["TextfileCollector", "TextfileError", "parse_text_format"]

logger = logging.getLogger("opsforge.observe.agent")

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|\})')
_TYPES = {"counter", "gauge", "untyped", "histogram", "summary"}
_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count", "")}
_UNESCAPE = re.compile(r"\\(.)")


class TextfileError(ValueError):
    """A line of a ``.prom`` file that is not valid text format; names the line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


def _value(text: str, line: int) -> float:
    special = {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}
    if text in special:
        return special[text]
    try:
        return float(text)
    except ValueError:
        raise TextfileError(line, f"bad sample value {text!r}") from None


def _parse_labels(text: str, line: int) -> tuple[Labels, str]:
    """Labels after ``{``; returns them and the rest of the line after ``}``."""
    labels: list[tuple[str, str]] = []
    pos = 0
    if text.lstrip().startswith("}"):
        return (), text.lstrip()[1:]
    while True:
        match = _LABEL.match(text, pos)
        if match is None:
            raise TextfileError(line, "malformed label set")
        raw = match.group(2)
        value = _UNESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), raw)
        labels.append((match.group(1), value))
        pos = match.end()
        if match.group(3) == "}":
            return tuple(labels), text[pos:]


def _family_for(name: str, families: dict[str, Family]) -> Family | None:
    if name in families:
        return families[name]
    for family in families.values():
        for suffix in _SUFFIXES.get(family.type, ()):
            if suffix and name == family.name + suffix:
                return family
    return None


def parse_text_format(text: str) -> list[Family]:
    """Families of a text-format document; raises :class:`TextfileError` (with the line)."""
    families: dict[str, Family] = {}
    helps: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                rest = parts[3] if len(parts) > 3 else ""
                if parts[1] == "HELP":
                    helps[name] = rest
                    if name in families:
                        families[name].help = rest
                else:
                    if rest not in _TYPES:
                        raise TextfileError(number, f"unknown metric type {rest!r}")
                    if name in families:
                        raise TextfileError(number, f"TYPE for {name} after its samples")
                    families[name] = Family(name, cast(MetricType, rest), helps.get(name, ""))
            continue
        match = _NAME.match(line)
        if match is None:
            raise TextfileError(number, "expected a metric name")
        name = match.group(0)
        rest = line[match.end() :]
        labels: Labels = ()
        if rest.startswith("{"):
            labels, rest = _parse_labels(rest[1:], number)
        fields = rest.split()
        if len(fields) != 1:
            raise TextfileError(
                number, "timestamps are not allowed" if len(fields) == 2 else "expected a value"
            )
        family = _family_for(name, families)
        if family is None:
            family = families[name] = Family(name, "untyped", helps.get(name, ""))
        family.add(_value(fields[0], number), labels, name[len(family.name) :])
    return list(families.values())


@dataclass(frozen=True, slots=True)
class TextfileCollector:
    directory: Path

    def __call__(self, ctx: ScrapeContext) -> list[Family]:
        mtime = Family(
            "node_textfile_mtime_seconds", "gauge", "Unixtime mtime of textfiles successfully read."
        )
        error = 0
        merged: dict[str, Family] = {}
        try:
            paths = sorted(self.directory.glob("*.prom"))
        except OSError as exc:
            logger.warning("textfile directory %s: %s", self.directory, exc)
            paths, error = [], 1
        for path in paths:
            try:
                text = path.read_text(encoding="utf-8")
                stat = path.stat()
                families = parse_text_format(text)
            except TextfileError as exc:
                logger.warning("%s:%d: %s", path, exc.line, str(exc).partition(": ")[2])
                error = 1
                continue
            except (OSError, UnicodeDecodeError) as exc:
                logger.warning("%s: %s", path, exc)
                error = 1
                continue
            for family in families:
                known = merged.get(family.name)
                if known is None:
                    merged[family.name] = family
                elif known.type != family.type:
                    logger.warning("%s: %s has type %s elsewhere", path, family.name, known.type)
                    error = 1
                else:
                    known.samples.extend(family.samples)
            mtime.add(stat.st_mtime, (("file", str(path)),))
        status = Family(
            "node_textfile_scrape_error",
            "gauge",
            "1 if there was an error opening or reading a file, 0 otherwise",
        ).add(error)
        return [*merged.values(), mtime, status]
