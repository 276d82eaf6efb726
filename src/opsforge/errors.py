"""The one exception tree of opsforge.

Every error opsforge raises on purpose derives from :class:`OpsforgeError`.
Errors carry the context a user needs to act: the host, the command, the
file and line of a bad input.

::

    OpsforgeError
    ├── UsageError                  bad command-line use or option value
    ├── InputError                  a user file is wrong (carries file:line)
    │   ├── InventoryError          malformed inventory / unknown host pattern
    │   ├── PlanError               a plan that cannot run (cycle, unknown dependency)
    │   ├── TemplateError           a Jinja2 template or expression failed (names file:line)
    │   └── VaultError              vault data malformed, wrong or missing vault password
    ├── ConnectError                a host could not be reached or logged into
    │   ├── UnreachableError        DNS, refused, no route, connect timeout
    │   ├── AuthError               every offered credential was rejected
    │   ├── HostKeyError            host key unknown (strict) or changed
    │   └── BecomeError             sudo refused the password / the user
    ├── CommandError                a command ran and did not succeed
    │   ├── CommandFailed           non-zero exit (carries the Result)
    │   └── CommandTimeout          killed after its timeout (carries the partial Result)
    ├── GroupError                  a fan-out where some hosts failed (carries the GroupResult)
    ├── TransferError               put/get failed (nothing half-written is left)
    ├── StateError                  run history / state store unusable
    └── Interrupted                 the user pressed Ctrl-C (SIGINT) or sent SIGTERM
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opsforge.types import Result

__all__ = [
    "AuthError",
    "BecomeError",
    "CommandError",
    "CommandFailed",
    "CommandTimeout",
    "ConnectError",
    "GroupError",
    "HostKeyError",
    "InputError",
    "Interrupted",
    "InventoryError",
    "OpsforgeError",
    "PlanError",
    "StateError",
    "TemplateError",
    "TransferError",
    "UnreachableError",
    "UsageError",
    "VaultError",
]


class OpsforgeError(Exception):
    """Root of every error opsforge raises on purpose."""

    def __init__(self, message: str, *, host: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.host = host

    def __str__(self) -> str:
        if self.host:
            return f"{self.host}: {self.message}"
        return self.message


class UsageError(OpsforgeError):
    """The command line or an option value is wrong."""


class InputError(OpsforgeError):
    """A file the user gave is wrong; names the file and, where known, the line."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        host: str | None = None,
    ) -> None:
        super().__init__(message, host=host)
        self.path = path
        self.line = line

    @property
    def location(self) -> str | None:
        if self.path is None:
            return None
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def __str__(self) -> str:
        loc = self.location
        text = f"{loc}: {self.message}" if loc else self.message
        return f"{self.host}: {text}" if self.host else text


class InventoryError(InputError):
    """Malformed inventory source, or a host pattern that matches nothing known."""


class PlanError(InputError):
    """A plan that cannot be executed (dependency cycle, unknown step)."""


class TemplateError(InputError):
    """A Jinja2 template or expression failed: syntax, undefined variable, a filter,
    test or lookup that failed or is not supported. Names the template file and line."""


class VaultError(InputError):
    """Vault data that is malformed, a wrong vault password, or no password given."""


class ConnectError(OpsforgeError):
    """A host could not be reached or logged into."""


class UnreachableError(ConnectError):
    """Name resolution, connection refused, no route, or connect timeout."""


class AuthError(ConnectError):
    """The server rejected every credential offered."""


class HostKeyError(ConnectError):
    """The host key is not known (strict policy) or does not match known_hosts."""


class BecomeError(ConnectError):
    """Privilege escalation (sudo) failed: wrong or missing password, not allowed."""


class CommandError(OpsforgeError):
    """A command ran but did not succeed. ``result`` holds what it produced."""

    def __init__(self, message: str, result: Result, *, host: str | None = None) -> None:
        super().__init__(message, host=host or result.host)
        self.result = result


class CommandFailed(CommandError):
    """A command exited non-zero."""


class CommandTimeout(CommandError):
    """A command outlived its timeout; its remote process group was killed."""


class GroupError(OpsforgeError):
    """A fan-out in which at least one host did not succeed; ``result`` maps every host."""

    def __init__(self, message: str, result: Any) -> None:
        super().__init__(message)
        self.result = result


class TransferError(OpsforgeError):
    """A put/get failed. The destination is left as it was before."""


class StateError(OpsforgeError):
    """The run history or state store cannot be read or written."""


class Interrupted(OpsforgeError):
    """The run was interrupted by the user (SIGINT/SIGTERM)."""
