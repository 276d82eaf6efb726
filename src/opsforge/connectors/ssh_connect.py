"""Opening an SSH connection with asyncssh: options, jump hosts, errors mapped.

:func:`open_link` turns a :class:`HostSpec` and :class:`ConnectOptions` into a
connected :class:`SSHLink`. OpenSSH config (``~/.ssh/config`` or
``ConnectOptions.ssh_config``) is read by asyncssh; explicit HostSpec fields
win. Jump hosts (``HostSpec.proxy_jump`` or the config's ProxyJump) are opened
here, hop by hop, with the same host key policy and identity files as the
target, and closed with it. Every failure leaves as a
:class:`~opsforge.errors.ConnectError` subclass that says what happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh
from asyncssh.encryption import get_default_encryption_algs

from opsforge.connectors.known_hosts import CheckingClient, HostKeyCheck
from opsforge.errors import AuthError, ConnectError, HostKeyError, UnreachableError
from opsforge.types import ConnectOptions, HostKeyPolicy, HostSpec

__all__ = ["SSHLink", "open_link", "parse_jump"]

_DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa", "id_ed25519_sk", "id_ecdsa_sk", "id_dsa")


@dataclass
class SSHLink:
    """A connection and the jump-host connections it runs through."""

    conn: asyncssh.SSHClientConnection
    jumps: list[SSHLink] = field(default_factory=list)

    async def close(self) -> None:
        self.conn.close()
        with contextlib.suppress(Exception):
            await self.conn.wait_closed()
        for jump in reversed(self.jumps):
            await jump.close()


@functools.cache
def _preferred_ciphers() -> list[str] | None:
    """AES-GCM first when the CPU has AES instructions (about 2x chacha20's throughput
    for SFTP on loopback here); None keeps asyncssh's (OpenSSH's) order."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            flags = {
                word
                for line in cpuinfo
                if line.startswith(("flags", "Features"))
                for word in line.split(":", 1)[1].split()
            }
    except OSError:
        return None
    if "aes" not in flags:
        return None
    gcm = ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com"]
    rest = [alg.decode() for alg in get_default_encryption_algs()]
    return gcm + [alg for alg in rest if alg not in gcm]


def parse_jump(hop: str, template: HostSpec) -> HostSpec:
    """``[user@]host[:port]`` as a HostSpec (identity files inherited, no further jumps)."""
    user, _, rest = hop.strip().rpartition("@")
    host, port = rest, None
    if rest.startswith("[") and "]" in rest:  # [v6addr]:port
        host, _, tail = rest[1:].partition("]")
        port = int(tail[1:]) if tail.startswith(":") else None
    elif rest.count(":") == 1:
        host, _, port_text = rest.partition(":")
        port = int(port_text)
    return HostSpec(
        name=host,
        user=user or None,
        port=port,
        identity_files=template.identity_files,
        known_hosts=template.known_hosts,
        proxy_jump="none",
    )


def _offered(spec: HostSpec, opts: asyncssh.SSHClientConnectionOptions, agent: bool) -> str:
    """What was offered to the server, for an AuthError."""
    keys = list(spec.identity_files)
    if not keys:
        configured = opts.config.get("IdentityFile") or []
        keys = [str(k) for k in configured] if isinstance(configured, list) else []
        keys = keys or [
            str(p) for p in (Path.home() / ".ssh" / k for k in _DEFAULT_KEYS) if p.exists()
        ]
    methods = [f"publickey ({', '.join(keys) if keys else 'no key files found'})"]
    if agent:
        methods.append("ssh-agent keys ($SSH_AUTH_SOCK)")
    if spec.password:
        methods.append("password")
    return "; ".join(methods)


def _describe_os_error(exc: OSError, target: str) -> str:
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host name of {target}: {exc.strerror}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection to {target} refused (nothing listens on that port?)"
    if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return f"no route to {target}"
    return f"cannot connect to {target}: {exc.strerror or exc}"


def _map_error(
    exc: BaseException,
    *,
    spec: HostSpec,
    target: str,
    options: ConnectOptions,
    check: HostKeyCheck | None,
    offered: str,
    user: str,
) -> ConnectError:
    name = spec.name
    if check is not None and check.failure and isinstance(exc, asyncssh.DisconnectError):
        return HostKeyError(check.failure, host=name)
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return HostKeyError(f"host key of {target} not accepted: {exc.reason}", host=name)
    if isinstance(exc, asyncssh.PermissionDenied):
        return AuthError(f"permission denied for {user}@{target}; tried: {offered}", host=name)
    if isinstance(exc, asyncssh.KeyExchangeFailed):
        return ConnectError(f"key exchange with {target} failed: {exc.reason}", host=name)
    if isinstance(exc, asyncssh.DisconnectError):
        return UnreachableError(f"{target} closed the connection: {exc.reason}", host=name)
    if isinstance(exc, TimeoutError):
        return UnreachableError(
            f"connect to {target} timed out after {options.connect_timeout:g}s", host=name
        )
    if isinstance(exc, OSError):
        return UnreachableError(_describe_os_error(exc, target), host=name)
    return ConnectError(f"cannot connect to {target}: {exc}", host=name)


async def open_link(
    spec: HostSpec,
    options: ConnectOptions,
    *,
    via: asyncssh.SSHClientConnection | None = None,
) -> SSHLink:
    """Connect to ``spec`` (through ``via`` when given); see the module docstring."""
    address = spec.address or spec.name
    agent = options.use_agent and bool(os.environ.get("SSH_AUTH_SOCK"))
    kwargs: dict[str, Any] = {
        "host": address,
        "config": [options.ssh_config] if options.ssh_config else (),
        "connect_timeout": options.connect_timeout,
        "keepalive_interval": options.keepalive_interval,
        "keepalive_count_max": options.keepalive_count_max,
    }
    if spec.port:
        kwargs["port"] = spec.port
    if spec.user:
        kwargs["username"] = spec.user
    if spec.identity_files:
        kwargs["client_keys"] = list(spec.identity_files)
    if not agent:
        kwargs["agent_path"] = None
    if spec.password:
        kwargs["password"] = spec.password.reveal()
    check = None
    if options.host_key_policy is not HostKeyPolicy.OFF:
        check = HostKeyCheck(options.host_key_policy, spec.known_hosts or options.known_hosts)
    kwargs["known_hosts"] = check.trusted if check is not None else None
    try:
        opts = asyncssh.SSHClientConnectionOptions(**kwargs)
    except (OSError, asyncssh.KeyImportError) as exc:
        raise AuthError(f"cannot load an identity file: {exc}", host=spec.name) from None
    except ValueError as exc:
        raise ConnectError(f"bad SSH settings for {spec.target}: {exc}", host=spec.name) from None

    port = spec.port or opts.port or 22
    target = f"{address}:{port}" if spec.name == address else f"{spec.name} ({address}:{port})"
    jump = spec.proxy_jump if spec.proxy_jump is not None else opts.tunnel
    jumps: list[SSHLink] = []
    tunnel = via
    try:
        if isinstance(jump, str) and jump.lower() != "none":
            for hop in jump.split(","):
                try:
                    link = await open_link(parse_jump(hop, spec), options, via=tunnel)
                except ConnectError as exc:
                    raise type(exc)(f"via jump host {hop}: {exc.message}", host=spec.name) from None
                jumps.append(link)
                tunnel = link.conn
        extra: dict[str, Any] = {}
        if not opts.config.get("Ciphers") and (ciphers := _preferred_ciphers()):
            extra["encryption_algs"] = ciphers
        try:
            conn = await asyncssh.connect(
                address,
                options=opts,
                tunnel=tunnel,
                client_factory=lambda: CheckingClient(check),
                **extra,
            )
        except (OSError, asyncssh.Error, TimeoutError, ValueError) as exc:
            raise _map_error(
                exc,
                spec=spec,
                target=target,
                options=options,
                check=check,
                offered=_offered(spec, opts, agent),
                user=str(opts.username),
            ) from None
    except BaseException:
        for link in reversed(jumps):
            await asyncio.shield(link.close())
        raise
    return SSHLink(conn, jumps)
