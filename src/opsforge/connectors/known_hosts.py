"""Host key checking against an OpenSSH known_hosts file, per :class:`HostKeyPolicy`.

asyncssh asks :meth:`HostKeyCheck.trusted` for the keys known for a host and
calls :meth:`HostKeyCheck.validate` (through the client object) only for a key
that is not among them. There we tell a *changed* key (the host has entries,
none matches) from an *unknown* one (no entries), refuse or record it as the
policy says, and keep a message naming host, port, file, line and fingerprint
for the :class:`~opsforge.errors.HostKeyError` the connector raises.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

import asyncssh

from opsforge.types import HostKeyPolicy

__all__ = ["HostKeyCheck", "known_hosts_line", "known_hosts_name"]


def known_hosts_name(host: str, port: int | None) -> str:
    """``host`` for port 22, ``[host]:port`` otherwise — as OpenSSH writes it."""
    return host if port in (None, 22) else f"[{host}]:{port}"


def known_hosts_line(host: str, port: int | None, key: asyncssh.SSHKey, *, hashed: bool) -> str:
    """One known_hosts line for ``key`` (host name hashed like ``HashKnownHosts yes``)."""
    name = known_hosts_name(host, port)
    if hashed:
        salt = secrets.token_bytes(20)
        digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
        name = f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"
    return f"{name} {key.export_public_key('openssh').decode().strip()}\n"


def _describe(key: asyncssh.SSHKey) -> str:
    return f"{key.get_algorithm()} {key.get_fingerprint('sha256')}"


#: path -> ((mtime_ns, size), parsed known_hosts): parsed once per run, not once per host
_PARSED: dict[str, tuple[tuple[int, int], asyncssh.SSHKnownHosts]] = {}


class HostKeyCheck:
    """Known-hosts lookups and the policy decision for one connection attempt."""

    def __init__(
        self, policy: HostKeyPolicy, path: str | None = None, *, hash_new: bool = False
    ) -> None:
        self.policy = policy
        self.path = Path(path).expanduser() if path else Path("~/.ssh/known_hosts").expanduser()
        self.hash_new = hash_new
        self.failure: str | None = None  # why the last key was refused
        self.recorded: str | None = None  # the line accept-new appended

    def _text(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def _parsed(self) -> asyncssh.SSHKnownHosts:
        """The parsed file, shared by every connection while the file is unchanged."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return asyncssh.import_known_hosts("")
        version = (st.st_mtime_ns, st.st_size)
        cached = _PARSED.get(str(self.path))
        if cached is None or cached[0] != version:
            cached = (version, asyncssh.import_known_hosts(self._text()))
            _PARSED[str(self.path)] = cached
        return cached[1]

    def trusted(
        self, host: str, addr: str, port: int | None
    ) -> tuple[list[asyncssh.SSHKey], list[asyncssh.SSHKey], list[asyncssh.SSHKey]]:
        """The (host keys, CA keys, revoked keys) known_hosts lists for this host."""
        found = self._parsed().match(host, addr, port)
        return list(found[0]), list(found[1]), list(found[2])

    def _entries(self, host: str, addr: str, port: int | None) -> list[tuple[int, asyncssh.SSHKey]]:
        """(line number, key) of every plain host key line that matches this host."""
        entries: list[tuple[int, asyncssh.SSHKey]] = []
        for number, line in enumerate(self._text().splitlines(), 1):
            if not line.strip() or line.lstrip().startswith(("#", "@")):
                continue
            try:
                keys = asyncssh.import_known_hosts(line).match(host, addr, port)[0]
            except (ValueError, asyncssh.KeyImportError):
                continue
            entries.extend((number, key) for key in keys)
        return entries

    def validate(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        """Decide on a key that known_hosts does not list for this host."""
        shown_port = None if port == 22 else port
        entries = self._entries(host, addr, shown_port)
        if any(old == key for _, old in entries):
            return True  # recorded meanwhile by a concurrent connection
        where = f"{host} port {port}"
        if entries:
            number, old = entries[0]
            self.failure = (
                f"host key for {where} has CHANGED (possible man-in-the-middle attack): "
                f"{self.path}:{number} has {_describe(old)}, the server offered "
                f"{_describe(key)}. If the host was reinstalled, remove the old entry: "
                f"ssh-keygen -R '{known_hosts_name(host, shown_port)}' -f {self.path}"
            )
            return False
        if self.policy is not HostKeyPolicy.ACCEPT_NEW:
            self.failure = (
                f"host key for {where} is not known: not in {self.path}; the server offered "
                f"{_describe(key)}. Add it to known_hosts (ssh-keyscan -p {port} {host}) or "
                "use the accept-new host key policy"
            )
            return False
        self._append(known_hosts_line(host, shown_port, key, hashed=self.hash_new))
        return True

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        text = self._text()
        prefix = "\n" if text and not text.endswith("\n") else ""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (prefix + line).encode())
        finally:
            os.close(fd)
        self.recorded = line


class CheckingClient(asyncssh.SSHClient):
    """The asyncssh client object: hands unknown host keys to a :class:`HostKeyCheck`."""

    def __init__(self, check: HostKeyCheck | None) -> None:
        self._check = check

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        return self._check is not None and self._check.validate(host, addr, port, key)
