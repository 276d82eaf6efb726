"""ansible-vault compatibility: fixtures written by the real ansible-vault decrypt; our
output round-trips; bad passwords and bad data are VaultErrors with file:line."""

from __future__ import annotations

import binascii
import os
import stat
from pathlib import Path

import pytest
import yaml

from opsforge.errors import InputError, VaultError
from opsforge.types import Secret
from opsforge.vault import (
    VaultEnvelope,
    VaultSecrets,
    decrypt_bytes,
    encrypt_bytes,
    is_vaulted,
    load_yaml,
    read_file,
    vault_constructor,
    vault_loader,
)

FIXTURES = Path(__file__).parent / "fixtures"
PLAIN = (FIXTURES / "secrets.plain.yml").read_bytes()


@pytest.fixture
def secrets() -> VaultSecrets:
    return VaultSecrets.from_file(FIXTURES / "password-default.txt") + VaultSecrets.from_file(
        FIXTURES / "password-prod.txt", vault_id="prod"
    )


# -- real ansible-vault output ------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "version", "vault_id"),
    [("secrets_1_1.yml", "1.1", None), ("secrets_prod_1_2.yml", "1.2", "prod")],
)
def test_ansible_vault_files_decrypt(
    secrets: VaultSecrets, fixture: str, version: str, vault_id: str | None
) -> None:
    data = (FIXTURES / fixture).read_bytes()
    assert is_vaulted(data)
    envelope = VaultEnvelope.parse(data)
    assert (envelope.version, envelope.cipher, envelope.vault_id) == (version, "AES256", vault_id)
    assert secrets.decrypt_bytes(data) == PLAIN


def test_binary_file_decrypts(secrets: VaultSecrets) -> None:
    assert (
        read_file(FIXTURES / "binary.bin.vault", secrets) == (FIXTURES / "binary.bin").read_bytes()
    )


def test_read_file_passes_plain_files_through(secrets: VaultSecrets) -> None:
    assert read_file(FIXTURES / "secrets.plain.yml", secrets) == PLAIN


def test_vault_id_password_also_tried_for_other_labels() -> None:
    # Ansible tries the matching label first, then every other password.
    only_prod_under_other_label = VaultSecrets.from_file(FIXTURES / "password-prod.txt")
    data = (FIXTURES / "secrets_prod_1_2.yml").read_bytes()
    assert only_prod_under_other_label.decrypt_bytes(data) == PLAIN


def test_inline_vault_values_load_as_secrets(secrets: VaultSecrets) -> None:
    path = str(FIXTURES / "vars_inline.yml")
    data = load_yaml((FIXTURES / "vars_inline.yml").read_text(), secrets, path=path)
    assert data["app_user"] == "deploy"
    assert data["port"] == 8080
    assert data["after"] == "done"
    assert isinstance(data["db_pass"], Secret)
    assert str(data["db_pass"]) == "***"
    assert data["db_pass"].reveal() == "p@ss w0rd ünïcode"
    assert data["tls_key"].reveal() == "line one\nline two\n"


def test_whole_vaulted_yaml_file_loads(secrets: VaultSecrets) -> None:
    data = load_yaml((FIXTURES / "secrets_1_1.yml").read_bytes(), secrets, path="secrets_1_1.yml")
    assert data == {"db_password": "s3cr3t!", "api_tokens": ["alpha", "beta"]}


def test_constructor_registers_on_a_callers_loader(secrets: VaultSecrets) -> None:
    class MyLoader(yaml.SafeLoader):
        pass

    MyLoader.add_constructor("!vault", vault_constructor(secrets, path="vars.yml"))
    data = yaml.load((FIXTURES / "vars_inline.yml").read_text(), Loader=MyLoader)
    assert data["db_pass"].reveal() == "p@ss w0rd ünïcode"
    assert "!vault" not in yaml.SafeLoader.yaml_constructors


def test_vault_loader_leaves_base_untouched(secrets: VaultSecrets) -> None:
    loader = vault_loader(secrets)
    assert issubclass(loader, yaml.SafeLoader)
    assert "!vault" in loader.yaml_constructors
    assert "!vault" not in yaml.SafeLoader.yaml_constructors


# -- our own output -------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [b"", b"x", b"0123456789abcdef", PLAIN, bytes(range(256)) * 5])
def test_round_trip(payload: bytes) -> None:
    text = encrypt_bytes(payload, "pw")
    assert text.startswith(b"$ANSIBLE_VAULT;1.1;AES256\n")
    assert text.endswith(b"\n")
    assert all(len(line) <= 80 for line in text.splitlines())
    assert decrypt_bytes(text, "pw") == payload


def test_round_trip_with_vault_id() -> None:
    text = encrypt_bytes(b"hello", Secret("pw"), vault_id="prod")
    assert text.splitlines()[0] == b"$ANSIBLE_VAULT;1.2;AES256;prod"
    assert decrypt_bytes(text, VaultSecrets.from_password("pw", vault_id="prod")) == b"hello"


def test_default_vault_id_writes_1_1() -> None:
    assert encrypt_bytes(b"x", "pw", vault_id="default").startswith(b"$ANSIBLE_VAULT;1.1;")


def test_salt_is_random() -> None:
    assert encrypt_bytes(b"same", "pw") != encrypt_bytes(b"same", "pw")


def test_secrets_encrypt_with_chosen_id(secrets: VaultSecrets) -> None:
    text = secrets.encrypt_bytes(b"v", vault_id="prod")
    assert text.startswith(b"$ANSIBLE_VAULT;1.2;AES256;prod\n")
    assert VaultSecrets.from_file(FIXTURES / "password-prod.txt").decrypt_bytes(text) == b"v"
    with pytest.raises(VaultError, match="no vault password with vault id 'dev'"):
        secrets.encrypt_bytes(b"v", vault_id="dev")


def test_indented_inline_text_decrypts() -> None:
    text = encrypt_bytes(b"inline", "pw").decode()
    indented = "\n".join("          " + line for line in text.splitlines())
    assert decrypt_bytes(indented, "pw") == b"inline"
    assert decrypt_bytes(text.replace("\n", "\r\n"), "pw") == b"inline"


# -- wrong, missing passwords ---------------------------------------------------------------


def test_wrong_password_names_file_and_line() -> None:
    data = (FIXTURES / "secrets_1_1.yml").read_bytes()
    with pytest.raises(VaultError) as info:
        decrypt_bytes(data, "wrong", path="group_vars/all.yml", line=1)
    assert str(info.value).startswith("group_vars/all.yml:1: HMAC mismatch: wrong vault password")
    assert (info.value.path, info.value.line) == ("group_vars/all.yml", 1)
    assert "wrong" not in str(info.value).split("password", 1)[1]  # the password is never shown


def test_wrong_password_for_inline_value_names_its_line() -> None:
    wrong = VaultSecrets.from_password("wrong")
    with pytest.raises(VaultError, match=r"vars_inline\.yml:3: HMAC mismatch"):
        load_yaml((FIXTURES / "vars_inline.yml").read_text(), wrong, path="vars_inline.yml")


def test_wrong_label_message_names_the_vault_id() -> None:
    data = (FIXTURES / "secrets_prod_1_2.yml").read_bytes()
    with pytest.raises(VaultError, match="for vault id 'prod'"):
        decrypt_bytes(data, "wrong")


def test_no_password_explains_how_to_give_one() -> None:
    with pytest.raises(VaultError) as info:
        load_yaml((FIXTURES / "vars_inline.yml").read_text(), VaultSecrets(), path="v.yml")
    message = str(info.value)
    assert message.startswith("v.yml:3: vaulted data but no vault password")
    assert "--vault-password-file" in message
    assert "OPSFORGE_VAULT_PASSWORD" in message


# -- malformed data --------------------------------------------------------------------------

GOOD = encrypt_bytes(b"some secret text", "pw").decode()
HEADER, _, BODY = GOOD.partition("\n")


def _rewrap_body(body: bytes) -> str:
    return HEADER + "\n" + binascii.hexlify(body).decode() + "\n"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("$ANSIBLE_VAULT;1.1;AES256\n", "no encrypted body"),
        ("$ANSIBLE_VAULT;1.1\n" + BODY, "header"),
        ("$ANSIBLE_VAULT;9.9;AES256\n" + BODY, "unsupported format version '9.9'"),
        ("$ANSIBLE_VAULT;1.1;DES\n" + BODY, "unsupported cipher 'DES'"),
        (HEADER + "\n" + BODY.replace("3", "z", 1), "not hexadecimal"),
        (HEADER + "\n" + BODY[:-2], "not hexadecimal"),  # odd length
        (HEADER + "\n" + BODY[: len(BODY) // 2 * 2 // 2], "part"),  # truncated half-way
        (_rewrap_body(b"abcd\nef"), "2 part"),
        (_rewrap_body(b"zz\n" + b"00" * 32 + b"\n" + b"00" * 16), "not hexadecimal"),
        (_rewrap_body(b"00\n" + b"00" * 31 + b"\n" + b"00" * 16), "HMAC is 31 bytes"),
        (_rewrap_body(b"00\n" + b"00" * 32 + b"\n" + b"00" * 15), "not whole AES blocks"),
        (_rewrap_body(b"\n" + b"00" * 32 + b"\n" + b"00" * 16), "empty salt"),
    ],
)
def test_malformed_vault_text_is_a_vault_error(text: str, why: str) -> None:
    with pytest.raises(VaultError, match="malformed vault data") as info:
        decrypt_bytes(text, "pw", path="bad.yml", line=4)
    assert why in str(info.value)
    assert str(info.value).startswith("bad.yml:4: ")


def test_tampered_ciphertext_is_an_hmac_mismatch() -> None:
    envelope = VaultEnvelope.parse(GOOD)
    flipped = bytes([envelope.ciphertext[0] ^ 1]) + envelope.ciphertext[1:]
    body = b"\n".join(binascii.hexlify(p) for p in (envelope.salt, envelope.hmac, flipped))
    with pytest.raises(VaultError, match="HMAC mismatch"):
        decrypt_bytes(_rewrap_body(body), "pw")


def test_vault_tag_on_non_scalar_or_plain_text() -> None:
    secrets = VaultSecrets.from_password("pw")
    with pytest.raises(VaultError, match=r"x\.yml:2: !vault must tag a string"):
        load_yaml("a: 1\nb: !vault [1, 2]\n", secrets, path="x.yml")
    with pytest.raises(VaultError, match=r"x\.yml:1: !vault value does not start"):
        load_yaml("b: !vault hello\n", secrets, path="x.yml")


def test_yaml_syntax_error_names_line() -> None:
    with pytest.raises(InputError, match=r"x\.yml:2: YAML"):
        load_yaml("a: 1\nb: c: d\n", VaultSecrets(), path="x.yml")


def test_is_vaulted() -> None:
    assert is_vaulted("  $ANSIBLE_VAULT;1.1;AES256\n00")
    assert not is_vaulted("plain: yaml\n")
    assert not is_vaulted(b"$ANSIBLE_VAULTX")


# -- password sources ------------------------------------------------------------------------


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_executable_password_file_is_run(tmp_path: Path) -> None:
    script = _script(tmp_path / "vault-pass.sh", "echo hunter2-file")
    secrets = VaultSecrets.from_file(script)
    assert secrets.decrypt_bytes((FIXTURES / "secrets_1_1.yml").read_bytes()) == PLAIN


def test_client_script_gets_vault_id(tmp_path: Path) -> None:
    script = _script(
        tmp_path / "pass-client.sh",
        '[ "$1" = --vault-id ] && [ "$2" = prod ] && echo prod-pass || exit 2',
    )
    secrets = VaultSecrets.from_file(script, vault_id="prod")
    assert secrets.decrypt_bytes((FIXTURES / "secrets_prod_1_2.yml").read_bytes()) == PLAIN


def test_failing_password_script(tmp_path: Path) -> None:
    script = _script(tmp_path / "vault-pass.sh", "echo no such key >&2; exit 3")
    with pytest.raises(VaultError, match="exited 3: no such key"):
        VaultSecrets.from_file(script)


@pytest.mark.parametrize(("content", "why"), [(None, "not found"), ("\n  \n", "empty")])
def test_bad_password_file(tmp_path: Path, content: str | None, why: str) -> None:
    path = tmp_path / "pw"
    if content is not None:
        path.write_text(content)
    with pytest.raises(VaultError, match=why):
        VaultSecrets.from_file(path)


def test_prompt_and_vault_id_specs(tmp_path: Path) -> None:
    asked: list[str] = []

    def prompt(message: str) -> str:
        asked.append(message)
        return "prod-pass"

    secrets = VaultSecrets.from_vault_id("prod@prompt", prompt=prompt) + VaultSecrets.from_vault_id(
        f"dev@{FIXTURES / 'password-default.txt'}"
    )
    assert asked == ["Vault password (prod): "]
    assert secrets.vault_ids == ("prod", "dev")
    assert secrets.decrypt_bytes((FIXTURES / "secrets_prod_1_2.yml").read_bytes()) == PLAIN
    with pytest.raises(VaultError, match="not interactive"):
        VaultSecrets.from_vault_id("x@prompt")
    with pytest.raises(VaultError, match="bad vault id"):
        VaultSecrets.from_vault_id("@file")


def test_from_env() -> None:
    assert not VaultSecrets.from_env({})
    secrets = VaultSecrets.from_env(
        {
            "OPSFORGE_VAULT_PASSWORD": "hunter2-file",
            "ANSIBLE_VAULT_PASSWORD_FILE": f"prod@{FIXTURES / 'password-prod.txt'}",
        }
    )
    assert secrets.vault_ids == ("default", "prod")
    assert secrets.decrypt_bytes((FIXTURES / "secrets_1_1.yml").read_bytes()) == PLAIN
    assert secrets.decrypt_bytes((FIXTURES / "secrets_prod_1_2.yml").read_bytes()) == PLAIN
    assert "hunter2" not in repr(secrets)


def test_from_env_reads_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSFORGE_VAULT_PASSWORD", "hunter2-file")
    monkeypatch.delenv("ANSIBLE_VAULT_PASSWORD_FILE", raising=False)
    monkeypatch.delenv("OPSFORGE_VAULT_PASSWORD_FILE", raising=False)
    assert len(VaultSecrets.from_env()) == 1
    assert os.environ["OPSFORGE_VAULT_PASSWORD"] == "hunter2-file"
