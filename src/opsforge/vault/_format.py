"""The ansible-vault envelope and its AES256 cipher.

The format, as documented by Ansible (``$ANSIBLE_VAULT;1.1;AES256``)::

    $ANSIBLE_VAULT;1.1;AES256            or  $ANSIBLE_VAULT;1.2;AES256;<vault-id label>
    <hex(body) wrapped at 80 columns>

    body = hex(salt) "\\n" hex(hmac) "\\n" hex(ciphertext)

- salt: 32 random bytes;
- PBKDF2-HMAC-SHA256(password, salt, 10000 iterations) -> 80 bytes: the AES-256 key
  (32), the HMAC-SHA256 key (32) and the CTR initial counter block (16);
- plaintext is PKCS#7 padded to the AES block size, then encrypted with AES-256-CTR;
- hmac = HMAC-SHA256(hmac key, ciphertext), checked in constant time before decrypting.
"""

from __future__ import annotations

import binascii
import functools
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from opsforge.errors import VaultError

__all__ = ["VaultEnvelope", "decrypt_envelope", "encrypt_with_password", "is_vaulted"]

MAGIC = b"$ANSIBLE_VAULT"
CIPHER = "AES256"
ITERATIONS = 10000
KEY_LENGTH = 32
IV_LENGTH = 16
SALT_LENGTH = 32
LINE_WIDTH = 80
DEFAULT_VAULT_ID = "default"


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def is_vaulted(data: bytes | str) -> bool:
    """True when ``data`` (file content or a YAML scalar) starts with a vault header."""
    return _as_bytes(data).lstrip().startswith(MAGIC + b";")


@dataclass(frozen=True, slots=True)
class VaultEnvelope:
    """A parsed vault text: header fields and the three binary parts of the body."""

    version: str  # "1.1" or "1.2"
    cipher: str  # "AES256"
    vault_id: str | None  # the 1.2 label; None for 1.1
    salt: bytes
    hmac: bytes
    ciphertext: bytes

    @classmethod
    def parse(
        cls, data: bytes | str, *, path: str | None = None, line: int | None = None
    ) -> VaultEnvelope:
        """Parse a vault text; anything malformed is a :class:`VaultError` at path:line."""

        def bad(why: str) -> VaultError:
            return VaultError(f"malformed vault data: {why}", path=path, line=line)

        raw = _as_bytes(data).strip()
        header, _, rest = raw.partition(b"\n")
        fields = header.strip().split(b";")
        if fields[0] != MAGIC or len(fields) < 3:
            raise bad("no '$ANSIBLE_VAULT;<version>;<cipher>' header")
        try:
            text_fields = [f.decode("ascii").strip() for f in fields[1:]]
        except UnicodeDecodeError:
            raise bad("header is not ASCII") from None
        version, cipher = text_fields[0], text_fields[1]
        if version not in ("1.1", "1.2"):
            raise bad(f"unsupported format version {version!r} (supported: 1.1, 1.2)")
        if cipher != CIPHER:
            raise bad(f"unsupported cipher {cipher!r} (supported: {CIPHER})")
        vault_id = text_fields[2] if version == "1.2" and len(text_fields) > 2 else None
        body_hex = b"".join(rest.split())
        if not body_hex:
            raise bad("no encrypted body after the header")
        try:
            body = binascii.unhexlify(body_hex)
        except (binascii.Error, ValueError):
            raise bad("the body is not hexadecimal (truncated or corrupted?)") from None
        parts = body.split(b"\n")
        if len(parts) != 3:
            raise bad(f"the body has {len(parts)} part(s), expected salt, hmac and ciphertext")
        try:
            salt, mac, ciphertext = (binascii.unhexlify(p.strip()) for p in parts)
        except (binascii.Error, ValueError):
            raise bad("a body part is not hexadecimal (truncated or corrupted?)") from None
        if not salt:
            raise bad("empty salt")
        if len(mac) != 32:
            raise bad(f"the HMAC is {len(mac)} bytes, expected 32")
        if not ciphertext or len(ciphertext) % 16:
            raise bad(f"ciphertext of {len(ciphertext)} bytes is not whole AES blocks (truncated?)")
        return cls(version, cipher, vault_id, salt, mac, ciphertext)


@functools.lru_cache(maxsize=256)
def _derive(password: bytes, salt: bytes) -> tuple[bytes, bytes, bytes]:
    kdf = PBKDF2HMAC(
        algorithm=hashes.SHA256(),
        length=2 * KEY_LENGTH + IV_LENGTH,
        salt=salt,
        iterations=ITERATIONS,
    )
    derived = kdf.derive(password)
    return derived[:KEY_LENGTH], derived[KEY_LENGTH : 2 * KEY_LENGTH], derived[2 * KEY_LENGTH :]


def decrypt_envelope(envelope: VaultEnvelope, password: bytes) -> bytes | None:
    """The plaintext, or None when the HMAC does not match (a wrong password).

    Raises ValueError when the HMAC matches but the padding is wrong (corrupt data
    written with the right key: practically never)."""
    aes_key, hmac_key, iv = _derive(password, envelope.salt)
    check = hmac.HMAC(hmac_key, hashes.SHA256())
    check.update(envelope.ciphertext)
    try:
        check.verify(envelope.hmac)  # constant time
    except InvalidSignature:
        return None
    decryptor = Cipher(algorithms.AES(aes_key), modes.CTR(iv)).decryptor()
    padded = decryptor.update(envelope.ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(algorithms.AES.block_size).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def encrypt_with_password(
    data: bytes, password: bytes, vault_id: str | None = None, *, salt: bytes | None = None
) -> bytes:
    """Vault text for ``data``: format 1.2 with a label when ``vault_id`` is given and is
    not ``default``, else 1.1. Ends with a newline, lines of 80 hex digits."""
    if not password:
        raise VaultError("cannot encrypt with an empty vault password")
    salt = os.urandom(SALT_LENGTH) if salt is None else salt
    aes_key, hmac_key, iv = _derive(password, salt)
    padder = padding.PKCS7(algorithms.AES.block_size).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(aes_key), modes.CTR(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    mac = hmac.HMAC(hmac_key, hashes.SHA256())
    mac.update(ciphertext)
    body = b"\n".join(binascii.hexlify(p) for p in (salt, mac.finalize(), ciphertext))
    body_hex = binascii.hexlify(body)
    if vault_id and vault_id != DEFAULT_VAULT_ID:
        if ";" in vault_id or any(c.isspace() for c in vault_id):
            raise VaultError(f"vault id {vault_id!r} may not contain ';' or whitespace")
        header = f"$ANSIBLE_VAULT;1.2;{CIPHER};{vault_id}".encode()
    else:
        header = f"$ANSIBLE_VAULT;1.1;{CIPHER}".encode()
    lines = [header] + [body_hex[i : i + LINE_WIDTH] for i in range(0, len(body_hex), LINE_WIDTH)]
    return b"\n".join(lines) + b"\n"
