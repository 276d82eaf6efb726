"""The observe domain's errors, in opsforge's one tree (see :mod:`opsforge.errors`)::

InputError
└── ObserveConfigError     an agent / receiver config file is wrong (file:line)
UsageError
└── ListenError            cannot listen on the address given (in use, not local, bad)
ConnectError
└── PushError              the Pushgateway refused or could not be reached
"""

from __future__ import annotations

from opsforge.errors import ConnectError, InputError, UsageError

__all__ = ["ListenError", "ObserveConfigError", "PushError"]


class ObserveConfigError(InputError):
    """A config file of the observe domain (agent, alert receiver) is wrong; names file:line."""


class ListenError(UsageError):
    """The listen address is malformed, in use, or not an address of this machine."""


class PushError(ConnectError):
    """Pushing metrics failed: the gateway is unreachable or answered with an error."""
