"""One parser per log format: a line in, an ECS-style record (flat dotted keys) out.

A parser returns ``None`` for a line that is not in its format; the caller keeps
such a line as a record flagged ``_parsefailure``. Field names follow the Elastic
Common Schema: ``@timestamp``, ``message``, ``log.level``, ``host.name``,
``process.name``, ``process.pid``, ``source.ip``, ``http.request.method``,
``url.original``, ``http.response.status_code``, ``user_agent.original``, ...
Timestamps are normalised to ISO 8601 where the format says enough (a syslog
time has no year: the current year is assumed, as syslog daemons do).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from opsforge.observe.logs.grok import GrokLibrary
from opsforge.observe.logs.headers import HeaderDetector, split_header

__all__ = ["FORMATS", "Parser", "generic_parser", "normalise_time"]

Record = dict[str, Any]
Parser = Callable[[str], Record | None]

_SEVERITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
_time_cache: dict[tuple[str, str], str] = {}


def normalise_time(text: str, fmt: str) -> str:
    """``text`` (in strptime ``fmt``) as ISO 8601; unchanged if it does not parse."""
    key = (text, fmt)
    cached = _time_cache.get(key)
    if cached is not None:
        return cached
    try:
        if fmt == "syslog":  # no year: this year, or last year if that is in the future
            now = datetime.now()
            value = datetime.strptime(f"{now.year} {' '.join(text.split())}", "%Y %b %d %H:%M:%S")
            if (value - now).days >= 1:
                value = value.replace(year=now.year - 1)
        else:
            value = datetime.strptime(text, fmt)
        result = value.isoformat()
    except ValueError:
        result = text
    if len(_time_cache) > 100_000:
        _time_cache.clear()
    _time_cache[key] = result
    return result


def _pri(record: Record, pri: str | None) -> None:
    if pri is None:
        return
    value = int(pri)
    record["log.syslog.priority"] = value
    record["log.syslog.facility.code"] = value // 8
    record["log.syslog.severity.code"] = value % 8
    record["log.level"] = _SEVERITIES[value % 8]


_SYSLOG = re.compile(
    r"(?:<(?P<pri>\d{1,3})>)?(?:(?P<bsd>[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2})|"
    r"(?P<iso>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?)) "
    r"(?P<host>\S+) (?P<prog>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?: ?(?P<msg>.*)",
    re.DOTALL,
)


def parse_syslog(line: str) -> Record | None:
    """RFC 3164 (BSD) syslog, and the ISO-timestamp form rsyslog writes."""
    found = _SYSLOG.match(line)
    if found is None:
        return None
    bsd = found["bsd"]
    record: Record = {
        "@timestamp": normalise_time(bsd, "syslog") if bsd else found["iso"],
        "host.name": found["host"],
        "process.name": found["prog"],
        "message": found["msg"],
    }
    if found["pid"]:
        record["process.pid"] = int(found["pid"])
    _pri(record, found["pri"])
    return record


_RFC5424 = re.compile(
    r"<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) "
    r"(?P<msgid>\S+) (?P<sd>-|(?:\[(?:[^\]\\\"]|\\.|\"(?:[^\"\\]|\\.)*\")*\])+)(?: (?P<msg>.*))?",
    re.DOTALL,
)
_SD_ELEMENT = re.compile(r"\[(?P<id>[^\s\]]+)(?P<params>(?: [^=\s\]]+=\"(?:[^\"\\]|\\.)*\")*)\]")
_SD_PARAM = re.compile(r" ([^=\s\]]+)=\"((?:[^\"\\]|\\.)*)\"")


def parse_rfc5424(line: str) -> Record | None:
    """RFC 5424 syslog with structured data."""
    found = _RFC5424.match(line)
    if found is None:
        return None
    record: Record = {"@timestamp": found["ts"], "message": (found["msg"] or "").lstrip("\ufeff")}
    for key, group in (
        ("host.name", "host"),
        ("process.name", "app"),
        ("log.syslog.msgid", "msgid"),
    ):
        if found[group] != "-":
            record[key] = found[group]
    if found["procid"] != "-":
        procid = found["procid"]
        record["process.pid"] = int(procid) if procid.isdigit() else procid
    if found["sd"] != "-":
        data = {}
        for element in _SD_ELEMENT.finditer(found["sd"]):
            data[element["id"]] = {
                k: re.sub(r"\\([\"\\\]])", r"\1", v)
                for k, v in _SD_PARAM.findall(element["params"])
            }
        record["log.syslog.structured_data"] = data
    _pri(record, found["pri"])
    return record


_GROK = GrokLibrary()
_ACCESS = _GROK.compile(
    r"%{COMMONAPACHELOG}(?: %{QS:http.request.referrer} %{QS:user_agent.original})?.*"
)


def parse_access(line: str) -> Record | None:
    """The common and combined access log formats (Apache, nginx)."""
    record = _ACCESS.match(line)
    if record is None:
        return None
    address = record.pop("source.address")
    record["source.ip" if re.fullmatch(r"[\d.]+|[0-9a-fA-F:]+", address) else "source.domain"] = (
        address
    )
    record["@timestamp"] = normalise_time(record["@timestamp"], "%d/%b/%Y:%H:%M:%S %z")
    record["message"] = line
    return record


_NGINX_ERROR = re.compile(
    r"(?P<ts>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) \[(?P<level>\w+)\] (?P<pid>\d+)#(?P<tid>\d+): "
    r"(?:\*(?P<cid>\d+) )?(?P<msg>.*)",
    re.DOTALL,
)
_NGINX_CONTEXT = re.compile(r", (client|server|request|upstream|host): (\"[^\"]*\"|[^,]*)")


def parse_nginx(line: str) -> Record | None:
    """nginx: the access log (combined) and the error log."""
    found = _NGINX_ERROR.match(line)
    if found is None:
        return parse_access(line)
    record: Record = {
        "@timestamp": normalise_time(found["ts"], "%Y/%m/%d %H:%M:%S"),
        "log.level": found["level"],
        "process.pid": int(found["pid"]),
        "process.thread.id": int(found["tid"]),
        "message": found["msg"],
    }
    context = dict(_NGINX_CONTEXT.findall(found["msg"]))
    if "client" in context:
        record["source.ip"] = context["client"]
    if "request" in context:
        method, _, rest = context["request"].strip('"').partition(" ")
        record["http.request.method"] = method
        record["url.original"] = rest.rsplit(" HTTP/", 1)[0]
    return record


_APACHE_ERROR = re.compile(
    r"\[(?P<ts>[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? \d{4})\] "
    r"\[(?:(?P<module>\w+):)?(?P<level>\w+)\] (?:\[pid (?P<pid>\d+)(?::tid \d+)?\] )?"
    r"(?:\[client (?P<client>[^\]]+?)(?::\d+)?\] )?(?P<msg>.*)",
    re.DOTALL,
)


def parse_apache(line: str) -> Record | None:
    """Apache httpd: the access log (common/combined) and the error log (2.2 and 2.4)."""
    found = _APACHE_ERROR.match(line)
    if found is None:
        return parse_access(line)
    stamp = found["ts"]
    record: Record = {
        "@timestamp": normalise_time(
            stamp, "%a %b %d %H:%M:%S.%f %Y" if "." in stamp else "%a %b %d %H:%M:%S %Y"
        ),
        "log.level": found["level"],
        "message": found["msg"],
    }
    if found["module"]:
        record["log.logger"] = found["module"]
    if found["pid"]:
        record["process.pid"] = int(found["pid"])
    if found["client"]:
        record["source.ip"] = found["client"]
    return record


_KEY_MAP = {
    "time": "@timestamp",
    "timestamp": "@timestamp",
    "ts": "@timestamp",
    "@timestamp": "@timestamp",
    "level": "log.level",
    "lvl": "log.level",
    "severity": "log.level",
    "loglevel": "log.level",
    "msg": "message",
    "message": "message",
    "logger": "log.logger",
    "caller": "log.origin.file.name",
    "host": "host.name",
    "hostname": "host.name",
    "pid": "process.pid",
}


def _mapped(fields: dict[str, Any]) -> Record:
    record: Record = {}
    for key, value in fields.items():
        record[_KEY_MAP.get(key.lower(), key)] = value
    return record


def parse_json(line: str) -> Record | None:
    """One JSON object per line; well-known keys (msg, level, time, ...) mapped to ECS."""
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return _mapped(value) if isinstance(value, dict) else None


_LOGFMT = re.compile(r"\s*([^\s=\"]+)=(\"(?:[^\"\\]|\\.)*\"|[^\s\"]*)")


def parse_logfmt(line: str) -> Record | None:
    """``key=value key2="quoted value"`` lines (Go, Heroku, Grafana/Loki tooling)."""
    fields: dict[str, Any] = {}
    position = 0
    for found in _LOGFMT.finditer(line):
        if found.start() != position:
            return None
        value = found[2]
        if value.startswith('"'):
            try:
                value = json.loads(value)
            except ValueError:
                value = value[1:-1]
        fields[found[1]] = value
        position = found.end()
    if len(fields) < 2 or line[position:].strip():
        return None
    return _mapped(fields)


_JOURNAL_KEYS = {
    "MESSAGE": "message",
    "_HOSTNAME": "host.name",
    "SYSLOG_IDENTIFIER": "process.name",
    "_PID": "process.pid",
    "_SYSTEMD_UNIT": "systemd.unit",
    "_COMM": "process.executable",
    "SYSLOG_FACILITY": "log.syslog.facility.code",
}


def parse_journald(line: str) -> Record | None:
    """``journalctl -o json`` output: one entry per line."""
    if not line.startswith("{") or "__REALTIME_TIMESTAMP" not in line:
        return None
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    record: Record = {}
    micros = entry.get("__REALTIME_TIMESTAMP")
    if isinstance(micros, str) and micros.isdigit():
        record["@timestamp"] = datetime.fromtimestamp(int(micros) / 1e6, UTC).isoformat()
    for key, target in _JOURNAL_KEYS.items():
        if key in entry:
            value = entry[key]
            if isinstance(value, list):  # binary MESSAGE: a list of byte values
                value = bytes(v for v in value if isinstance(v, int) and 0 <= v < 256).decode(
                    "utf-8", "replace"
                )
            record[target] = (
                int(value) if target == "process.pid" and str(value).isdigit() else value
            )
    priority = entry.get("PRIORITY")
    if isinstance(priority, str) and priority.isdigit() and int(priority) < 8:
        record["log.level"] = _SEVERITIES[int(priority)]
        record["log.syslog.severity.code"] = int(priority)
    record.setdefault("message", "")
    return record


def generic_parser(sample: list[str]) -> Parser | None:
    """A parser for "timestamp level logger: message" and similar application logs."""
    layout = HeaderDetector().detect(sample)
    if layout is None:
        return None

    def parse(line: str) -> Record | None:
        header = split_header(line, layout)
        if header.message is line:
            return None
        record: Record = {"message": header.message}
        for key, value in (
            ("@timestamp", header.timestamp),
            ("log.level", header.level),
            ("host.name", header.host),
            ("log.logger", header.process),
        ):
            if value:
                record[key] = value
        if header.pid.isdigit():
            record["process.pid"] = int(header.pid)
        return record

    return parse


#: The named formats, in the order auto-detection prefers them on a tie.
FORMATS: dict[str, Parser] = {
    "journald": parse_journald,
    "json": parse_json,
    "rfc5424": parse_rfc5424,
    "syslog": parse_syslog,
    "nginx": parse_nginx,
    "apache": parse_apache,
    "logfmt": parse_logfmt,
}
