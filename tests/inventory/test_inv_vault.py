"""Vaulted inventory data (real ansible-vault output): decrypted in memory, held as Secret."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from opsforge.errors import InventoryError
from opsforge.inventory import load_inventory
from opsforge.types import Secret
from opsforge.vault import VaultSecrets

FIXTURES = Path(__file__).parent.parent / "vault" / "fixtures"


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    (tmp_path / "hosts.ini").write_text("[db]\ndb1\n")
    (tmp_path / "group_vars").mkdir()
    shutil.copy(FIXTURES / "vars_inline.yml", tmp_path / "group_vars" / "db.yml")
    (tmp_path / "host_vars").mkdir()
    shutil.copy(FIXTURES / "secrets_1_1.yml", tmp_path / "host_vars" / "db1.yml")
    return tmp_path / "hosts.ini"


def secrets() -> VaultSecrets:
    return VaultSecrets.from_file(FIXTURES / "password-default.txt") + VaultSecrets.from_file(
        FIXTURES / "password-prod.txt", vault_id="prod"
    )


def test_vaulted_values_and_files_decrypt_to_secrets(inventory: Path) -> None:
    host = load_inventory([str(inventory)], vault=secrets()).host("db1")
    assert host.vars["app_user"] == "deploy"
    assert isinstance(host.vars["db_pass"], Secret)
    assert host.vars["db_pass"].reveal() == "p@ss w0rd ünïcode"
    assert host.vars["db_password"] == "s3cr3t!"  # from the wholly vaulted host_vars file
    described = {
        var: value
        for var, value, _ in load_inventory([str(inventory)], vault=secrets()).describe_host("db1")
    }
    assert described["db_pass"] == "***"


def test_without_a_password_the_error_says_how(inventory: Path) -> None:
    with pytest.raises(InventoryError, match="vault-password-file") as info:
        load_inventory([str(inventory)])
    assert "db.yml:3" in str(info.value) or "db1.yml:1" in str(info.value)


def test_wrong_password_names_the_file(inventory: Path) -> None:
    with pytest.raises(InventoryError, match="HMAC") as info:
        load_inventory([str(inventory)], vault=VaultSecrets.from_password("wrong"))
    assert ".yml" in str(info.value)
