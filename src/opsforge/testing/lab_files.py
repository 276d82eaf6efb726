"""The files of a local SSH lab: keys, sshd configs, inventory, known_hosts, ssh_config.

Pure writers; starting and stopping sshd lives in :mod:`opsforge.testing.lab`.
Layout under the lab root::

    client_ed25519{,.pub}     the key every lab host accepts
    home/                     HOME of every lab session (SetEnv)
    hosts/labN/               host_ed25519, sshd_config, sshd.log
    inventory.yml             Ansible YAML inventory: all -> lab1..labN, groups odd/even
    known_hosts               every host key as [127.0.0.1]:PORT
    ssh_config                `ssh -F ssh_config labN` works
    pids.json                 what is running (see lab.py)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Generic, TypeVar

import asyncssh
import yaml

from opsforge.connectors.known_hosts import known_hosts_line
from opsforge.types import ConnectOptions, HostKeyPolicy, HostSpec

H = TypeVar("H")

__all__ = [
    "ensure_key",
    "host_dir",
    "sshd_config_text",
    "write_inventory",
    "write_known_hosts",
    "write_ssh_config",
]

LOOPBACK = "127.0.0.1"


def ensure_key(path: Path, alg: str = "ssh-ed25519") -> asyncssh.SSHKey:
    """Load the key at ``path``, generating it (type ``alg``, and ``.pub``) if missing."""
    if path.exists():
        return asyncssh.read_private_key(path)
    key = asyncssh.generate_private_key(alg, comment=f"opsforge-lab {path.name}")
    tmp = path.with_name(path.name + ".tmp")
    key.write_private_key(tmp)
    os.chmod(tmp, 0o600)
    key.write_public_key(path.with_name(path.name + ".pub"))
    os.chmod(path.with_name(path.name + ".pub"), 0o644)
    os.replace(tmp, path)
    return key


def host_dir(root: Path, name: str) -> Path:
    return root / "hosts" / name


def sshd_config_text(
    *,
    port: int,
    host_key: Path,
    pid_file: Path,
    authorized_keys: Path,
    home: Path,
    as_root: bool,
    overrides: Mapping[str, str] | None = None,
    extra_host_keys: Sequence[Path] = (),
) -> str:
    """One lab host's sshd_config; ``overrides`` replace or add options (a value of
    ``None``-like ``""`` drops the option); ``extra_host_keys`` add HostKey lines."""
    options = {
        "ListenAddress": LOOPBACK,
        "Port": str(port),
        "HostKey": str(host_key),
        "PidFile": str(pid_file),
        "AuthorizedKeysFile": str(authorized_keys),
        "PubkeyAuthentication": "yes",
        "PasswordAuthentication": "no",
        "KbdInteractiveAuthentication": "no",
        "UsePAM": "no",
        "StrictModes": "no",
        "PermitTTY": "no",
        "PrintMotd": "no",
        "PrintLastLog": "no",
        "MaxSessions": "100",
        "MaxStartups": "200:30:400",
        "Subsystem": "sftp internal-sftp",
        "LogLevel": "VERBOSE",
        # A clean HOME: this machine's own ~/.bashrc (sourced by bash for every
        # sshd command) must not distort what tests and timings see.
        "SetEnv": f"HOME={home}",
    }
    if as_root:
        options["PermitRootLogin"] = "prohibit-password"
    options.update(overrides or {})
    lines = [f"{name} {value}\n" for name, value in options.items() if value != ""]
    lines[3:3] = [f"HostKey {key}\n" for key in extra_host_keys]
    return "".join(lines)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _addresses(count: int, addresses: Sequence[str] | None) -> Sequence[str]:
    """One address per host, in order: 127.0.0.1 unless given."""
    if addresses is None:
        return [LOOPBACK] * count
    if len(addresses) != count:
        raise ValueError(f"{len(addresses)} addresses for {count} hosts")
    return addresses


def write_known_hosts(
    path: Path,
    hosts: Sequence[tuple[int, asyncssh.SSHKey]],
    *,
    addresses: Sequence[str] | None = None,
) -> None:
    """``[ADDRESS]:PORT key`` for each (port, host key); ADDRESS is 127.0.0.1 unless
    ``addresses`` gives one per host."""
    where = _addresses(len(hosts), addresses)
    text = "".join(
        known_hosts_line(address, port, key, hashed=False)
        for address, (port, key) in zip(where, hosts, strict=True)
    )
    _atomic_write(path, text)


def write_inventory(
    path: Path,
    hosts: Sequence[tuple[str, int]],
    *,
    user: str,
    key: Path,
    known_hosts: Path,
    addresses: Sequence[str] | None = None,
    host_vars: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """An Ansible YAML inventory: ``all`` with lab1..labN, groups ``odd``/``even``
    (``addresses``: one per host, default 127.0.0.1; ``host_vars``: more variables
    per host name)."""
    where = _addresses(len(hosts), addresses)
    entries = {
        name: {
            "ansible_host": address,
            "ansible_port": port,
            "ansible_user": user,
            "ansible_ssh_private_key_file": str(key),
            **(host_vars or {}).get(name, {}),
        }
        for address, (name, port) in zip(where, hosts, strict=True)
    }
    odd = {name: None for index, (name, _) in enumerate(hosts, 1) if index % 2}
    even = {name: None for index, (name, _) in enumerate(hosts, 1) if not index % 2}
    inventory = {
        "all": {
            "hosts": entries,
            "vars": {
                # real Ansible / OpenSSH verify lab host keys against the lab's file
                "ansible_ssh_common_args": f"-o UserKnownHostsFile={known_hosts} "
                "-o StrictHostKeyChecking=yes -o IdentitiesOnly=yes",
            },
            "children": {"odd": {"hosts": odd}, "even": {"hosts": even}},
        }
    }
    _atomic_write(path, yaml.safe_dump(inventory, sort_keys=False, default_flow_style=False))


def write_ssh_config(
    path: Path,
    hosts: Sequence[tuple[str, int]],
    *,
    user: str,
    key: Path,
    known_hosts: Path,
    addresses: Sequence[str] | None = None,
) -> None:
    """OpenSSH client config: ``ssh -F PATH lab1`` logs into lab1 (``addresses``: one per
    host, default 127.0.0.1)."""
    where = _addresses(len(hosts), addresses)
    blocks = [
        f"Host {name}\n"
        f"    HostName {address}\n"
        f"    Port {port}\n"
        f"    User {user}\n"
        f"    IdentityFile {key}\n"
        "    IdentitiesOnly yes\n"
        f"    UserKnownHostsFile {known_hosts}\n"
        "    StrictHostKeyChecking yes\n"
        for address, (name, port) in zip(where, hosts, strict=True)
    ]
    _atomic_write(path, "\n".join(blocks))


def host_spec(
    name: str, address: str, port: int, user: str, key: Path, /, **changes: object
) -> HostSpec:
    """The HostSpec of a test host logging in with the generated key (``changes`` win)."""
    spec = HostSpec(name=name, address=address, port=port, user=user, identity_files=(str(key),))
    return replace(spec, **changes)  # type: ignore[arg-type]


def strict_options(known_hosts: Path, ssh_config: Path, /, **changes: object) -> ConnectOptions:
    """Strict host key checking against the test hosts' known_hosts; no agent."""
    options = ConnectOptions(
        connect_timeout=10.0,
        host_key_policy=HostKeyPolicy.STRICT,
        known_hosts=str(known_hosts),
        ssh_config=str(ssh_config),
        use_agent=False,
    )
    return replace(options, **changes)  # type: ignore[arg-type]


class HostFiles(Generic[H]):
    """The files a set of test hosts writes under ``root``, and lookup by host name
    (shared by the local SSH lab and the Debian hosts)."""

    __slots__ = ()

    root: Path
    hosts: tuple[H, ...]

    @property
    def key_path(self) -> Path:
        return self.root / "client_ed25519"

    @property
    def inventory_path(self) -> Path:
        return self.root / "inventory.yml"

    @property
    def known_hosts_path(self) -> Path:
        return self.root / "known_hosts"

    @property
    def ssh_config_path(self) -> Path:
        return self.root / "ssh_config"

    # short aliases
    @property
    def key(self) -> Path:
        return self.key_path

    @property
    def inventory(self) -> Path:
        return self.inventory_path

    @property
    def known_hosts(self) -> Path:
        return self.known_hosts_path

    @property
    def ssh_config(self) -> Path:
        return self.ssh_config_path

    def host(self, name: str) -> H:
        for host in self.hosts:
            if getattr(host, "name", None) == name:
                return host
        raise KeyError(name)
