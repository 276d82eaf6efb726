"""Shared value types: the command Result, host outcome states, secrets and host specs."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Become",
    "ConnectOptions",
    "HostKeyPolicy",
    "HostSpec",
    "HostStatus",
    "Result",
    "Secret",
]


class Secret:
    """A value that must never be shown: renders as ``***`` in str, repr, logs and JSON."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real value, for the one place that needs it (a password prompt, an env var)."""
        return self._value

    def __str__(self) -> str:
        return "***"

    def __repr__(self) -> str:
        return "Secret('***')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)


class HostStatus(enum.StrEnum):
    """The outcome of a host (or a step on a host). Each is a distinct, reported state."""

    OK = "ok"
    CHANGED = "changed"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    AUTH_FAILED = "auth_failed"
    HOST_KEY_MISMATCH = "host_key_mismatch"
    TIMED_OUT = "timed_out"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"

    @property
    def is_success(self) -> bool:
        return self in (HostStatus.OK, HostStatus.CHANGED, HostStatus.SKIPPED)

    @property
    def is_connect_failure(self) -> bool:
        return self in (
            HostStatus.UNREACHABLE,
            HostStatus.AUTH_FAILED,
            HostStatus.HOST_KEY_MISMATCH,
        )


@dataclass(frozen=True, slots=True)
class Result:
    """What one command produced on one host.

    ``exit_code`` is None when the command never finished (timeout, interrupt).
    ``stdout``/``stderr`` are decoded as UTF-8 (invalid bytes replaced); they are
    empty when the caller asked not to capture (streaming only).
    """

    command: str
    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0
    host: str = "local"
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    @property
    def failed(self) -> bool:
        return not self.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "command": self.command,
            "exit_code": self.exit_code,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "duration": round(self.duration, 6),
            "timed_out": self.timed_out,
            "ok": self.ok,
        }


class HostKeyPolicy(enum.StrEnum):
    """How SSH host keys are checked against known_hosts."""

    STRICT = "strict"  # unknown or changed key: refuse
    ACCEPT_NEW = "accept-new"  # unknown key: accept and record; changed key: refuse
    OFF = "off"  # no checking at all (explicit opt-out)


@dataclass(frozen=True, slots=True)
class Become:
    """Privilege escalation for a command: ``sudo -u USER``."""

    user: str = "root"
    method: str = "sudo"
    password: Secret | None = None


@dataclass(frozen=True, slots=True)
class ConnectOptions:
    """Settings shared by every connection of a run."""

    connect_timeout: float = 10.0
    keepalive_interval: float = 15.0
    keepalive_count_max: int = 3
    host_key_policy: HostKeyPolicy = HostKeyPolicy.STRICT
    known_hosts: str | None = None  # None: ~/.ssh/known_hosts
    ssh_config: str | None = None  # None: ~/.ssh/config when it exists
    use_agent: bool = True


@dataclass(frozen=True, slots=True)
class HostSpec:
    """Everything needed to connect to one host, as resolved from the inventory.

    ``name`` is the inventory name; ``address`` is what to connect to (None: use
    the name, after ~/.ssh/config HostName resolution).
    """

    name: str
    address: str | None = None
    port: int | None = None
    user: str | None = None
    connector: str = "ssh"
    identity_files: tuple[str, ...] = ()
    password: Secret | None = None
    become: Become | None = None
    proxy_jump: str | None = None
    known_hosts: str | None = None  # per-host known_hosts file; wins over ConnectOptions
    vars: Mapping[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> str:
        """``user@address:port`` as a human would write it."""
        text = self.address or self.name
        if self.user:
            text = f"{self.user}@{text}"
        if self.port:
            text = f"{text}:{self.port}"
        return text
