"""From a host's variables to a :class:`~opsforge.types.HostSpec`.

opsforge's own names (``opsforge_user``), Ansible's connection variables
(``ansible_user``) and pyinfra's host data (``ssh_user``) are all understood.
When a host has several names for one setting (``ansible_user`` from
``group_vars/all.yml`` and ``opsforge_user`` on the host line), the value with
the higher variable precedence wins; on a tie the ``opsforge_*`` name wins.
"""

from __future__ import annotations

import functools
import shlex
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opsforge.errors import InventoryError
from opsforge.types import Become, HostSpec, Secret

if TYPE_CHECKING:
    from opsforge.inventory.model import VarOrigin

__all__ = ["SECRET_VARS", "build_spec"]

# In each tuple: opsforge's name, then Ansible's names, then pyinfra's host data names.
ADDRESS_VARS = ("opsforge_host", "ansible_host", "ansible_ssh_host", "ssh_hostname")
PORT_VARS = ("opsforge_port", "ansible_port", "ansible_ssh_port", "ssh_port")
USER_VARS = ("opsforge_user", "ansible_user", "ansible_ssh_user", "ssh_user")
KEY_VARS = (
    "opsforge_key",
    "ansible_ssh_private_key_file",
    "ansible_private_key_file",
    "ssh_key",
)
PASSWORD_VARS = (
    "opsforge_password",
    "ansible_password",
    "ansible_ssh_pass",
    "ansible_ssh_password",
    "ssh_password",
)
BECOME_VARS = ("opsforge_become", "ansible_become", "_sudo")
BECOME_USER_VARS = ("opsforge_become_user", "ansible_become_user", "_sudo_user")
BECOME_METHOD_VARS = ("opsforge_become_method", "ansible_become_method")
BECOME_PASSWORD_VARS = (
    "opsforge_become_password",
    "ansible_become_password",
    "ansible_become_pass",
    "ansible_sudo_pass",
    "_sudo_password",
)
CONNECTOR_VARS = ("opsforge_connector", "ansible_connection")
PROXY_VARS = ("opsforge_proxy_jump",)
KNOWN_HOSTS_VARS = ("opsforge_known_hosts", "ssh_known_hosts_file")
SSH_ARGS_VARS = ("ansible_ssh_common_args", "ansible_ssh_extra_args")

#: Variables whose values are kept as :class:`~opsforge.types.Secret`.
SECRET_VARS = frozenset(PASSWORD_VARS + BECOME_PASSWORD_VARS)

_CONNECTORS = {
    "local": "local",
    "ssh": "ssh",
    "paramiko": "ssh",
    "paramiko_ssh": "ssh",
    "smart": "ssh",
    "ansible.builtin.ssh": "ssh",
    "ansible.builtin.paramiko_ssh": "ssh",
    "ansible.builtin.local": "local",
    "docker": "docker",
    "community.docker.docker": "docker",
}
_TRUE = frozenset({"true", "yes", "on", "1", "y"})
_FALSE = frozenset({"false", "no", "off", "0", "n", ""})

OriginLookup = Callable[[str], "VarOrigin | None"]


class _Resolver:
    """Picks, for each setting, the winning variable among its aliases."""

    def __init__(
        self,
        host: str,
        variables: Mapping[str, Any],
        origin_of: OriginLookup,
        ranks: Mapping[str, int],
    ) -> None:
        self.host = host
        self.variables = variables
        self.origin_of = origin_of
        self.ranks = ranks

    def pick(self, names: Sequence[str]) -> tuple[str, Any] | None:
        present = [name for name in names if name in self.variables]
        if not present:
            return None
        best = max(present, key=lambda name: (self.ranks.get(name, -1), -names.index(name)))
        return best, self.variables[best]

    def error(self, name: str, message: str) -> InventoryError:
        origin = self.origin_of(name)
        if origin is None or origin.path is None:
            where = f" (set in {origin})" if origin is not None else ""
            return InventoryError(f"{name}: {message}{where}", host=self.host)
        return InventoryError(
            f"{name}: {message} ({origin.scope})",
            path=origin.path,
            line=origin.line,
            host=self.host,
        )

    def text(self, names: Sequence[str]) -> str | None:
        found = self.pick(names)
        if found is None or found[1] is None:
            return None
        name, value = found
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, Secret):
            return value.reveal()
        raise self.error(name, f"expected a string, got {type(value).__name__}")

    def secret(self, names: Sequence[str]) -> Secret | None:
        found = self.pick(names)
        if found is None or found[1] is None:
            return None
        value = found[1]
        return value if isinstance(value, Secret) else Secret(str(value))

    def port(self) -> int | None:
        found = self.pick(PORT_VARS)
        if found is None or found[1] is None:
            return None
        name, value = found
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
            raise self.error(name, f"port must be a number from 1 to 65535, got {value!r}")
        return value

    def flag(self, names: Sequence[str]) -> bool:
        found = self.pick(names)
        if found is None or found[1] is None:
            return False
        name, value = found
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise self.error(name, f"expected a boolean (true/false, yes/no), got {value!r}")

    def identity_files(self) -> tuple[str, ...]:
        found = self.pick(KEY_VARS)
        if found is None or found[1] is None:
            return ()
        name, value = found
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
            return tuple(value)
        raise self.error(name, "expected a key file path or a list of paths")

    def connector(self) -> str:
        value = self.text(CONNECTOR_VARS)
        if value is None:
            return "ssh"
        return _CONNECTORS.get(value.strip().lower(), value.strip())

    def from_ssh_args(self, names: Sequence[str], option: str) -> str | None:
        """An opsforge variable, else the ssh ``-o Option=value`` in Ansible's ssh args."""
        value = self.text(names)
        if value:
            return value
        for name in SSH_ARGS_VARS:
            args = self.variables.get(name)
            if isinstance(args, str):
                value = ssh_option(args, option)
                if value:
                    return value
        return None


@functools.lru_cache(maxsize=64)
def _split(args: str) -> tuple[str, ...] | None:
    """shlex.split, once per distinct string (every host of a group shares its ssh args)."""
    try:
        return tuple(shlex.split(args))
    except ValueError:
        return None


def ssh_option(args: str, option: str) -> str | None:
    """The value of one ssh option in a command line: ``-o Option=value``, ``-o 'Option value'``.

    ``ProxyJump`` is also read from ``-J host``.
    """
    tokens = _split(args)
    if tokens is None:
        return None
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if option == "ProxyJump" and token.startswith("-J"):
            return token[2:] or following or None
        text = following if token == "-o" else token[2:] if token.startswith("-o") else ""
        key, _, value = text.replace("=", " ", 1).partition(" ")
        if key.lower() == option.lower() and value.strip():
            return value.strip()
    return None


def build_spec(
    host: str,
    variables: Mapping[str, Any],
    origin_of: OriginLookup,
    ranks: Mapping[str, int],
) -> HostSpec:
    """The :class:`HostSpec` for ``host`` given its merged variables."""
    resolve = _Resolver(host, variables, origin_of, ranks)
    become = None
    if resolve.flag(BECOME_VARS):
        become = Become(
            user=resolve.text(BECOME_USER_VARS) or "root",
            method=resolve.text(BECOME_METHOD_VARS) or "sudo",
            password=resolve.secret(BECOME_PASSWORD_VARS),
        )
    return HostSpec(
        name=host,
        address=resolve.text(ADDRESS_VARS),
        port=resolve.port(),
        user=resolve.text(USER_VARS),
        connector=resolve.connector(),
        identity_files=resolve.identity_files(),
        password=resolve.secret(PASSWORD_VARS),
        become=become,
        proxy_jump=resolve.from_ssh_args(PROXY_VARS, "ProxyJump"),
        known_hosts=resolve.from_ssh_args(KNOWN_HOSTS_VARS, "UserKnownHostsFile"),
        vars=dict(variables),
    )
