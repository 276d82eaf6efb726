"""YAML with vault: ``!vault`` values load as :class:`Secret`; whole vaulted files are
decrypted (in memory) before parsing."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from opsforge.errors import InputError, VaultError
from opsforge.types import Secret
from opsforge.vault._format import is_vaulted
from opsforge.vault._secrets import VaultSecrets

__all__ = ["load_yaml", "read_file", "vault_constructor", "vault_loader"]

VAULT_TAG = "!vault"

Constructor = Callable[[Any, yaml.Node], Secret]


def vault_constructor(secrets: VaultSecrets, *, path: str | None = None) -> Constructor:
    """A PyYAML constructor for ``!vault`` scalars: register it on any loader class with
    ``Loader.add_constructor("!vault", vault_constructor(secrets))``. The value is
    decrypted at load time and held as a ``Secret``. ``path`` names the file in errors
    (default: the loader's stream name)."""

    def construct(loader: Any, node: yaml.Node) -> Secret:
        where = path or getattr(loader, "name", None)
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.ScalarNode):
            raise VaultError("!vault must tag a string (use '!vault |')", path=where, line=line)
        text = str(node.value)
        if not is_vaulted(text):
            raise VaultError(
                "!vault value does not start with '$ANSIBLE_VAULT;'", path=where, line=line
            )
        return Secret(secrets.decrypt_text(text, path=where, line=line))

    return construct


def vault_loader(
    secrets: VaultSecrets, *, base: type[yaml.SafeLoader] = yaml.SafeLoader, path: str | None = None
) -> type[yaml.SafeLoader]:
    """A fresh subclass of ``base`` that understands ``!vault`` (``base`` is untouched)."""
    loader: type[yaml.SafeLoader] = type("VaultLoader", (base,), {})
    loader.add_constructor(VAULT_TAG, vault_constructor(secrets, path=path))
    return loader


def load_yaml(data: bytes | str, secrets: VaultSecrets, *, path: str | None = None) -> Any:
    """Parse YAML that may be a whole vaulted file and may hold ``!vault`` values."""
    if is_vaulted(data):
        data = secrets.decrypt_bytes(data, path=path, line=1)
    loader = vault_loader(secrets, path=path)
    try:
        return yaml.load(data, Loader=loader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise InputError(
            f"YAML: {exc.problem or exc.context}",
            path=path,
            line=mark.line + 1 if mark else None,
        ) from None


def read_file(path: str | os.PathLike[str], secrets: VaultSecrets) -> bytes:
    """A file's content, decrypted in memory when it is vaulted."""
    name = os.fspath(path)
    try:
        data = Path(name).read_bytes()
    except OSError as exc:
        raise VaultError(f"cannot read: {exc.strerror or exc}", path=name) from None
    if is_vaulted(data):
        return secrets.decrypt_bytes(data, path=name, line=1)
    return data
