"""Vault passwords (by vault-id label) and decrypting with them.

Passwords come from a password file (an executable file is run and its stdout is the
password, as in Ansible; a ``*-client`` script gets ``--vault-id LABEL``), a prompt the
caller supplies, a ``label@source`` vault-id spec, or the environment
(``OPSFORGE_VAULT_PASSWORD``, ``OPSFORGE_VAULT_PASSWORD_FILE``,
``ANSIBLE_VAULT_PASSWORD_FILE``). They are held as :class:`~opsforge.types.Secret`.
Nothing decrypted is ever written to disk.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from opsforge.errors import VaultError
from opsforge.types import Secret
from opsforge.vault._format import (
    DEFAULT_VAULT_ID,
    VaultEnvelope,
    decrypt_envelope,
    encrypt_with_password,
)

__all__ = ["NO_PASSWORD_HINT", "VaultPassword", "VaultSecrets"]

NO_PASSWORD_HINT = (
    "give one with --vault-password-file FILE, --vault-id LABEL@FILE or --ask-vault-pass, "
    "or set OPSFORGE_VAULT_PASSWORD (the password) or "
    "OPSFORGE_VAULT_PASSWORD_FILE / ANSIBLE_VAULT_PASSWORD_FILE (a file)"
)
_CLIENT_SCRIPT = re.compile(r"-client(\.[^.]*)?$")
_SCRIPT_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class VaultPassword:
    """One vault password, its vault-id label and where it came from (for messages)."""

    vault_id: str
    password: Secret
    source: str


def _password_from_file(path: str, vault_id: str) -> str:
    file = Path(path).expanduser()
    if not file.is_file():
        raise VaultError("vault password file not found", path=path)
    if os.access(file, os.X_OK):
        argv = [str(file)]
        if _CLIENT_SCRIPT.search(file.name):
            argv += ["--vault-id", vault_id]
        try:
            proc = subprocess.run(
                argv, capture_output=True, timeout=_SCRIPT_TIMEOUT, check=False, stdin=None
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise VaultError(f"vault password script could not run: {exc}", path=path) from None
        if proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace").strip()
            raise VaultError(
                f"vault password script exited {proc.returncode}"
                + (f": {stderr}" if stderr else ""),
                path=path,
            )
        password = proc.stdout.decode("utf-8", "replace").rstrip("\r\n")
    else:
        try:
            password = file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise VaultError(f"cannot read vault password file: {exc}", path=path) from None
    if not password:
        raise VaultError("the vault password is empty", path=path)
    return password


class VaultSecrets:
    """The vault passwords of a run. Empty is allowed: decrypting then explains how to
    give a password. Combine sources with ``+``."""

    __slots__ = ("_passwords",)

    def __init__(self, passwords: Iterable[VaultPassword] = ()) -> None:
        self._passwords: tuple[VaultPassword, ...] = tuple(passwords)

    # -- sources --------------------------------------------------------------------

    @classmethod
    def from_password(
        cls, password: str | Secret, *, vault_id: str = DEFAULT_VAULT_ID, source: str = "password"
    ) -> VaultSecrets:
        secret = password if isinstance(password, Secret) else Secret(password)
        if not secret.reveal():
            raise VaultError(f"the vault password from {source} is empty")
        return cls([VaultPassword(vault_id, secret, source)])

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], *, vault_id: str = DEFAULT_VAULT_ID
    ) -> VaultSecrets:
        """``--vault-password-file``: the file's text, or an executable's stdout."""
        text = _password_from_file(os.fspath(path), vault_id)
        return cls([VaultPassword(vault_id, Secret(text), f"file {os.fspath(path)}")])

    @classmethod
    def from_prompt(
        cls, prompt: Callable[[str], str], *, vault_id: str = DEFAULT_VAULT_ID
    ) -> VaultSecrets:
        """``--ask-vault-pass``: ``prompt(message)`` asks the person (the caller owns the tty)."""
        label = "" if vault_id == DEFAULT_VAULT_ID else f" ({vault_id})"
        return cls.from_password(
            prompt(f"Vault password{label}: "), vault_id=vault_id, source="prompt"
        )

    @classmethod
    def from_vault_id(
        cls, spec: str, *, prompt: Callable[[str], str] | None = None
    ) -> VaultSecrets:
        """``--vault-id LABEL@SOURCE`` where SOURCE is a file or ``prompt``; a bare
        SOURCE means the ``default`` label."""
        label, sep, source = spec.partition("@")
        if not sep:
            label, source = DEFAULT_VAULT_ID, spec
        if not label or not source:
            raise VaultError(f"bad vault id {spec!r}: expected LABEL@FILE or LABEL@prompt")
        if source == "prompt":
            if prompt is None:
                raise VaultError(
                    f"vault id {spec!r} asks for a prompt, but input is not interactive"
                )
            return cls.from_prompt(prompt, vault_id=label)
        return cls.from_file(source, vault_id=label)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> VaultSecrets:
        """``OPSFORGE_VAULT_PASSWORD``, then ``OPSFORGE_VAULT_PASSWORD_FILE`` and
        ``ANSIBLE_VAULT_PASSWORD_FILE`` (comma-separated files allowed); empty if unset."""
        env = os.environ if environ is None else environ
        found = cls()
        if env.get("OPSFORGE_VAULT_PASSWORD"):
            found += cls.from_password(
                env["OPSFORGE_VAULT_PASSWORD"], source="$OPSFORGE_VAULT_PASSWORD"
            )
        for name in ("OPSFORGE_VAULT_PASSWORD_FILE", "ANSIBLE_VAULT_PASSWORD_FILE"):
            for item in filter(None, (p.strip() for p in env.get(name, "").split(","))):
                found += cls.from_vault_id(item)
        return found

    # -- container --------------------------------------------------------------------

    def __add__(self, other: VaultSecrets) -> VaultSecrets:
        return VaultSecrets(self._passwords + other._passwords)

    def __bool__(self) -> bool:
        return bool(self._passwords)

    def __len__(self) -> int:
        return len(self._passwords)

    def __iter__(self) -> Iterator[VaultPassword]:
        return iter(self._passwords)

    def __repr__(self) -> str:
        ids = ", ".join(p.vault_id for p in self._passwords)
        return f"VaultSecrets([{ids}])"

    @property
    def vault_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.vault_id for p in self._passwords))

    def _ordered_for(self, vault_id: str | None) -> list[VaultPassword]:
        """Passwords whose label matches the envelope's first, then all the others."""
        if vault_id is None:
            return list(self._passwords)
        matching = [p for p in self._passwords if p.vault_id == vault_id]
        return matching + [p for p in self._passwords if p.vault_id != vault_id]

    # -- crypto -----------------------------------------------------------------------

    def decrypt_bytes(
        self, data: bytes | str, *, path: str | None = None, line: int | None = None
    ) -> bytes:
        """Decrypt a vault text. ``path``/``line`` say where it came from, for errors."""
        envelope = VaultEnvelope.parse(data, path=path, line=line)
        if not self._passwords:
            raise VaultError(
                f"vaulted data but no vault password: {NO_PASSWORD_HINT}", path=path, line=line
            )
        for candidate in self._ordered_for(envelope.vault_id):
            try:
                plain = decrypt_envelope(envelope, candidate.password.reveal().encode("utf-8"))
            except ValueError:
                raise VaultError(
                    "malformed vault data: bad padding", path=path, line=line
                ) from None
            if plain is not None:
                return plain
        label = f" for vault id {envelope.vault_id!r}" if envelope.vault_id else ""
        tried = ", ".join(f"{p.vault_id} ({p.source})" for p in self._passwords)
        raise VaultError(
            f"HMAC mismatch: wrong vault password{label} (tried {tried})", path=path, line=line
        )

    def decrypt_text(
        self, data: bytes | str, *, path: str | None = None, line: int | None = None
    ) -> str:
        """Decrypt a vault text holding UTF-8 text."""
        plain = self.decrypt_bytes(data, path=path, line=line)
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:
            raise VaultError(
                "decrypted vault data is not UTF-8 text", path=path, line=line
            ) from None

    def encrypt_bytes(self, data: bytes, *, vault_id: str | None = None) -> bytes:
        """Encrypt with the password of ``vault_id`` (default: the first password)."""
        if not self._passwords:
            raise VaultError(f"nothing to encrypt with: {NO_PASSWORD_HINT}")
        chosen = self._ordered_for(vault_id)[0]
        if vault_id is not None and chosen.vault_id != vault_id:
            raise VaultError(f"no vault password with vault id {vault_id!r}")
        return encrypt_with_password(
            data, chosen.password.reveal().encode("utf-8"), vault_id or chosen.vault_id
        )
