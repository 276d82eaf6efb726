"""ansible-vault compatible encryption: read and write ``$ANSIBLE_VAULT;1.1;AES256`` (and
1.2 with a vault-id label) files and ``!vault`` YAML values, decrypted in memory only.

::

    secrets = VaultSecrets.from_file("~/.vault_pass") + VaultSecrets.from_env()
    plain = secrets.decrypt_bytes(Path("secrets.yml").read_bytes(), path="secrets.yml")
    data = load_yaml(text, secrets, path="group_vars/all.yml")  # !vault -> Secret
"""

from __future__ import annotations

from opsforge.errors import VaultError
from opsforge.types import Secret
from opsforge.vault._format import (
    DEFAULT_VAULT_ID,
    VaultEnvelope,
    encrypt_with_password,
    is_vaulted,
)
from opsforge.vault._secrets import NO_PASSWORD_HINT, VaultPassword, VaultSecrets
from opsforge.vault._yaml import load_yaml, read_file, vault_constructor, vault_loader

__all__ = [
    "DEFAULT_VAULT_ID",
    "NO_PASSWORD_HINT",
    "VaultEnvelope",
    "VaultError",
    "VaultPassword",
    "VaultSecrets",
    "decrypt_bytes",
    "encrypt_bytes",
    "is_vaulted",
    "load_yaml",
    "read_file",
    "vault_constructor",
    "vault_loader",
]


def _secrets_of(secrets: VaultSecrets | str | Secret) -> VaultSecrets:
    return secrets if isinstance(secrets, VaultSecrets) else VaultSecrets.from_password(secrets)


def decrypt_bytes(
    data: bytes | str,
    secrets: VaultSecrets | str | Secret,
    *,
    path: str | None = None,
    line: int | None = None,
) -> bytes:
    """Decrypt a vault text with the given passwords (or one password)."""
    return _secrets_of(secrets).decrypt_bytes(data, path=path, line=line)


def encrypt_bytes(data: bytes, password: str | Secret, vault_id: str | None = None) -> bytes:
    """Vault text for ``data`` (1.2 with ``vault_id`` as label, else 1.1)."""
    text = password.reveal() if isinstance(password, Secret) else password
    return encrypt_with_password(data, text.encode("utf-8"), vault_id)
