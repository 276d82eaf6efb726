"""The agent's config file (YAML): which collectors run, their exclusions, the textfile
directory, process groups, checks and push mode. Every error names file:line.

::

    listen: 127.0.0.1:9101
    collectors:
      disable: [systemd]           # or enable: [...] for only those
    filesystem:
      mount_points_exclude: '^/(dev|proc|run|sys)($|/)'
    diskstats: {device_exclude: '^(ram|loop)\\d+$'}
    netdev: {device_exclude: '^lo$'}
    textfile: {directory: /var/lib/opsforge/textfile}
    processes:
      - {name: sshd, exe: sshd}
      - {name: web, cmdline: 'gunicorn .*app:app'}
      - {name: db, pidfile: /run/postgresql/15-main.pid}
    checks:
      - {name: site, kind: http, url: 'https://example.org/health', timeout: 5}
      - {name: cert, kind: tls, address: 'example.org:443', min_days: 14}
    push: {url: 'http://pushgw:9091', job: node, interval: 15}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from opsforge.observe.agent.checks.base import Check, CheckKind, check_kinds
from opsforge.observe.agent.collectors import COLLECTOR_NAMES
from opsforge.observe.agent.collectors.network import DEFAULT_NETDEV_EXCLUDE
from opsforge.observe.agent.collectors.processes import ProcessGroup
from opsforge.observe.agent.collectors.storage import (
    DEFAULT_DEVICE_EXCLUDE,
    DEFAULT_FS_TYPES_EXCLUDE,
    DEFAULT_MOUNT_POINTS_EXCLUDE,
)
from opsforge.observe.agent.collectors.systemd import DEFAULT_UNIT_EXCLUDE
from opsforge.observe.config_nodes import Section, load_section

__all__ = [
    "DEFAULT_LISTEN",
    "DEFAULT_TEXTFILE_DIR",
    "AgentConfig",
    "PushConfig",
    "load_config",
    "parse_listen",
]

DEFAULT_LISTEN = "127.0.0.1:9101"
DEFAULT_TEXTFILE_DIR = Path("/var/lib/opsforge/textfile")


@dataclass(frozen=True, slots=True)
class PushConfig:
    url: str
    job: str = "opsforge_agent"
    instance: str | None = None
    interval: float = 15.0


@dataclass(frozen=True, slots=True)
class AgentConfig:
    listen: str = DEFAULT_LISTEN
    collectors: frozenset[str] = frozenset(COLLECTOR_NAMES)
    mount_points_exclude: re.Pattern[str] = re.compile(DEFAULT_MOUNT_POINTS_EXCLUDE)
    fs_types_exclude: re.Pattern[str] = re.compile(DEFAULT_FS_TYPES_EXCLUDE)
    disk_device_exclude: re.Pattern[str] = re.compile(DEFAULT_DEVICE_EXCLUDE)
    netdev_device_exclude: re.Pattern[str] = re.compile(DEFAULT_NETDEV_EXCLUDE)
    unit_include: re.Pattern[str] = re.compile(".+")
    unit_exclude: re.Pattern[str] = re.compile(DEFAULT_UNIT_EXCLUDE)
    textfile_directory: Path | None = None
    processes: tuple[ProcessGroup, ...] = ()
    checks: tuple[Check, ...] = field(default_factory=tuple)
    push: PushConfig | None = None


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9101`` for IPv6) → (host, port); ValueError when malformed."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"listen address must be HOST:PORT, not {text!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def _collectors(section: Section | None) -> frozenset[str]:
    if section is None:
        return frozenset(COLLECTOR_NAMES)
    enable, disable = section.texts("enable"), section.texts("disable")
    for key, names in (("enable", enable), ("disable", disable)):
        unknown = sorted(set(names) - set(COLLECTOR_NAMES))
        if unknown:
            raise section.error(
                f"unknown collector {unknown[0]!r} (known: {', '.join(COLLECTOR_NAMES)})", key
            )
    if enable and disable:
        raise section.error("give 'enable' or 'disable', not both", "disable")
    section.finish()
    return frozenset(enable) if enable else frozenset(COLLECTOR_NAMES) - set(disable)


def _process_group(section: Section) -> ProcessGroup:
    name = section.required_text("name")
    exe, cmdline, pidfile = section.text("exe"), section.text("cmdline"), section.text("pidfile")
    if sum(x is not None for x in (exe, cmdline, pidfile)) != 1:
        raise section.error("give exactly one of 'exe', 'cmdline' or 'pidfile'")
    pattern = section.regex("cmdline", cmdline) if cmdline is not None else None
    section.finish()
    return ProcessGroup(
        name, exe_name=exe, cmdline=pattern, pidfile=Path(pidfile) if pidfile else None
    )


def _checks(root: Section) -> tuple[Check, ...]:
    kinds = check_kinds()
    checks: list[Check] = []
    names: set[str] = set()
    for section in root.sections("checks"):
        name = section.required_text("name")
        if name in names:
            raise section.error(f"a check named {name!r} is already defined", "name")
        names.add(name)
        kind = section.required_text("kind")
        entry = kinds.get(kind)
        if entry is None:
            raise section.error(
                f"unknown check kind {kind!r} (installed: {', '.join(sorted(kinds))})", "kind"
            )
        factory: CheckKind = entry.load()
        checks.append(factory.from_config(name, section))
        section.finish()
    return tuple(checks)


def _push(section: Section | None) -> PushConfig | None:
    if section is None:
        return None
    url = section.required_text("url")
    if not url.startswith(("http://", "https://")):
        raise section.error(f"'url' must start with http:// or https://, not {url!r}", "url")
    push = PushConfig(
        url=url.rstrip("/"),
        job=section.text("job", "opsforge_agent") or "opsforge_agent",
        instance=section.text("instance"),
        interval=section.number("interval", 15.0, minimum=0.1),
    )
    section.finish()
    return push


def _regex(section: Section | None, key: str, default: str) -> re.Pattern[str]:
    return section.regex(key, default) if section is not None else re.compile(default)


def load_config(path: Path) -> AgentConfig:
    """Read and validate the agent config; :class:`ObserveConfigError` names file:line."""
    root = load_section(path, "agent config")
    listen = root.text("listen", DEFAULT_LISTEN) or DEFAULT_LISTEN
    try:
        parse_listen(listen)
    except ValueError as exc:
        raise root.error(str(exc), "listen") from None
    fs = root.section("filesystem")
    disks = root.section("diskstats")
    net = root.section("netdev")
    units = root.section("systemd")
    textfile = root.section("textfile")
    config = AgentConfig(
        listen=listen,
        collectors=_collectors(root.section("collectors")),
        mount_points_exclude=_regex(fs, "mount_points_exclude", DEFAULT_MOUNT_POINTS_EXCLUDE),
        fs_types_exclude=_regex(fs, "fs_types_exclude", DEFAULT_FS_TYPES_EXCLUDE),
        disk_device_exclude=_regex(disks, "device_exclude", DEFAULT_DEVICE_EXCLUDE),
        netdev_device_exclude=_regex(net, "device_exclude", DEFAULT_NETDEV_EXCLUDE),
        unit_include=_regex(units, "unit_include", ".+"),
        unit_exclude=_regex(units, "unit_exclude", DEFAULT_UNIT_EXCLUDE),
        textfile_directory=Path(textfile.required_text("directory")) if textfile else None,
        processes=tuple(_process_group(s) for s in root.sections("processes")),
        checks=_checks(root),
        push=_push(root.section("push")),
    )
    for section in (fs, disks, net, units, textfile):
        if section is not None:
            section.finish()
    root.finish()
    return config
