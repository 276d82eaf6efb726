"""What the receiver does in response to an alert: its config file and the actions.

::

    inventory: inventory.yml          # relative to this file; -i overrides
    host_label: instance              # which label names the alerting host (port dropped)
    actions:
      - name: vacuum-journal
        match: {alertname: HostDiskAlmostFull}
        match_re: {mountpoint: '/|/var'}
        on: firing                    # firing (default), resolved or both
        exec: 'journalctl --vacuum-size=200M'
        become: true
        timeout: 300
      - name: restart-web
        match: {alertname: EndpointCheckFailing, check: web}
        apply: remediate/web.py       # an opsforge deploy, applied to the alerting host

An action runs as its own opsforge run (``opsforge exec`` / ``opsforge apply`` on the
alerting host), so it is in the run history like any other run; the alert's name,
status and fingerprint reach the command as ``ALERT_NAME``, ``ALERT_STATUS``,
``ALERT_FINGERPRINT`` (and the alert's labels as ``ALERT_LABEL_<NAME>``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from opsforge.observe.alerts.payload import Alert
from opsforge.observe.config_nodes import Section, load_section

__all__ = ["Action", "ReceiverConfig", "action_argv", "alert_host", "load_receiver_config"]

_LABEL_ENV = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    match: Mapping[str, str]
    match_re: Mapping[str, re.Pattern[str]]
    on: frozenset[str]
    exec_command: str | None = None
    apply_file: Path | None = None
    become: bool = False
    timeout: float = 600.0

    def matches(self, alert: Alert) -> bool:
        if alert.status not in self.on:
            return False
        if any(alert.labels.get(k) != v for k, v in self.match.items()):
            return False
        return all(p.fullmatch(alert.labels.get(k, "")) for k, p in self.match_re.items())

    def describe(self) -> str:
        return f"exec {self.exec_command}" if self.exec_command else f"apply {self.apply_file}"


@dataclass(frozen=True, slots=True)
class ReceiverConfig:
    inventory: str | None = None
    host_label: str = "instance"
    actions: tuple[Action, ...] = field(default_factory=tuple)


def _labels(section: Section, key: str) -> dict[str, str]:
    sub = section.section(key)
    if sub is None:
        return {}
    values = {}
    for name in sub.key_names():  # a free-form mapping of label -> value
        value = sub.text(name)
        if value is None:
            raise sub.error(f"label {name!r} needs a value", name)
        values[name] = value
    return values


def _action(section: Section, base: Path) -> Action:
    name = section.required_text("name")
    match = _labels(section, "match")
    patterns = {}
    for label, pattern in _labels(section, "match_re").items():
        try:
            patterns[label] = re.compile(pattern)
        except re.error as exc:
            raise section.error(f"match_re {label!r}: {exc}", "match_re") from None
    if not match and not patterns:
        raise section.error("give 'match' or 'match_re' (an action for every alert is a mistake)")
    on = section.text("on", "firing") or "firing"
    if on not in ("firing", "resolved", "both"):
        raise section.error(f"'on' must be firing, resolved or both, not {on!r}", "on")
    command, deploy = section.text("exec"), section.text("apply")
    if (command is None) == (deploy is None):
        raise section.error("give exactly one of 'exec' or 'apply'")
    apply_file = None
    if deploy is not None:
        apply_file = (base / deploy).resolve()
        if not apply_file.is_file():
            raise section.error(f"deploy file {apply_file} does not exist", "apply")
    action = Action(
        name=name,
        match=match,
        match_re=patterns,
        on=frozenset(("firing", "resolved") if on == "both" else (on,)),
        exec_command=command,
        apply_file=apply_file,
        become=section.flag("become", False),
        timeout=section.number("timeout", 600.0, minimum=1.0),
    )
    section.finish()
    return action


def load_receiver_config(path: Path) -> ReceiverConfig:
    root = load_section(path, "receiver config")
    base = path.parent
    inventory = root.text("inventory")
    if inventory is not None and "," not in inventory and not inventory.startswith("@"):
        inventory = str((base / inventory).resolve())
    host_label = root.text("host_label", "instance") or "instance"
    names: set[str] = set()
    actions = []
    for section in root.sections("actions"):
        action = _action(section, base)
        if action.name in names:
            raise section.error(f"an action named {action.name!r} is already defined", "name")
        names.add(action.name)
        actions.append(action)
    root.finish()
    return ReceiverConfig(inventory=inventory, host_label=host_label, actions=tuple(actions))


def alert_host(alert: Alert, label: str) -> str | None:
    """The host an alert is about: the label's value without a ``:port``."""
    value = alert.labels.get(label)
    if not value:
        return None
    if value.startswith("["):  # [v6]:port
        return value[1:].split("]", 1)[0]
    host, sep, port = value.rpartition(":")
    return host if sep and port.isdigit() and ":" not in host else value


def alert_env(alert: Alert) -> dict[str, str]:
    env = {
        "ALERT_NAME": alert.name,
        "ALERT_STATUS": alert.status,
        "ALERT_FINGERPRINT": alert.fingerprint,
        "ALERT_STARTS_AT": alert.starts_at,
    }
    for key, value in alert.labels.items():
        env[f"ALERT_LABEL_{_LABEL_ENV.sub('_', key).upper()}"] = value
    return env


def action_argv(action: Action, alert: Alert, host: str, inventory: str) -> list[str]:
    """The opsforge command line that runs ``action`` on ``host`` (a run of its own)."""
    argv = [sys.executable, "-m", "opsforge"]
    if action.exec_command is not None:
        argv += ["exec", host, "-i", inventory, "-t", f"{action.timeout:g}"]
        for key, value in alert_env(alert).items():
            argv += ["-e", f"{key}={value}"]
        if action.become:
            argv.append("--become")
        return [*argv, "--", action.exec_command]
    argv += ["apply", str(action.apply_file), host, "-i", inventory]
    if action.become:
        argv.append("--become")
    return argv
