"""SHA-crypt (``$5$`` SHA-256 and ``$6$`` SHA-512 password hashes), written from
Ulrich Drepper's published specification "Unix crypt using SHA-256 and SHA-512".

The output matches glibc's crypt(3), ``openssl passwd -5/-6`` and passlib. The
default of 5000 rounds is the specification's (and crypt(3)'s); it is then left out
of the hash string, as the specification says.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from typing import Any

__all__ = ["DEFAULT_ROUNDS", "SALT_CHARS", "random_salt", "sha_crypt"]

DEFAULT_ROUNDS = 5000
MIN_ROUNDS = 1000
MAX_ROUNDS = 999_999_999
MAX_SALT = 16
SALT_CHARS = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# Which bytes of the final digest form each group of 3 (most significant first).
_ORDER_256: tuple[tuple[int, ...], ...] = (
    (0, 10, 20), (21, 1, 11), (12, 22, 2), (3, 13, 23), (24, 4, 14),
    (15, 25, 5), (6, 16, 26), (27, 7, 17), (18, 28, 8), (9, 19, 29),
    (31, 30),
)  # fmt: skip
_ORDER_512: tuple[tuple[int, ...], ...] = (
    (0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4),
    (47, 5, 26), (6, 27, 48), (28, 49, 7), (50, 8, 29), (9, 30, 51),
    (31, 52, 10), (53, 11, 32), (12, 33, 54), (34, 55, 13), (56, 14, 35),
    (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60), (40, 61, 19),
    (62, 20, 41), (63,),
)  # fmt: skip


def random_salt(size: int = MAX_SALT) -> str:
    return "".join(secrets.choice(SALT_CHARS) for _ in range(size))


def _repeat_to(digest: bytes, length: int) -> bytes:
    """``length`` bytes made of ``digest`` repeated (the spec's P and S sequences)."""
    whole, rest = divmod(length, len(digest))
    return digest * whole + digest[:rest]


def _encode(digest: bytes, order: tuple[tuple[int, ...], ...]) -> str:
    out: list[str] = []
    for group in order:
        value = 0
        for index in group:
            value = (value << 8) | digest[index]
        chars = len(group) + 1  # 3 bytes -> 4 chars, 2 -> 3, 1 -> 2
        for _ in range(chars):
            out.append(SALT_CHARS[value & 0x3F])
            value >>= 6
    return "".join(out)


def sha_crypt(
    password: str | bytes, salt: str, *, bits: int = 512, rounds: int | None = None
) -> str:
    """The crypt(3) string ``$6$[rounds=N$]salt$hash`` (``$5$`` for ``bits=256``)."""
    if bits == 512:
        new: Callable[..., Any] = hashlib.sha512
        ident, order = "6", _ORDER_512
    elif bits == 256:
        new, ident, order = hashlib.sha256, "5", _ORDER_256
    else:
        raise ValueError(f"SHA-crypt has 256 and 512 bit variants, not {bits}")
    if len(salt) > MAX_SALT:
        raise ValueError(f"salt too long ({len(salt)} characters, at most {MAX_SALT})")
    if any(c not in SALT_CHARS for c in salt):
        raise ValueError("salt characters must be from [./0-9A-Za-z]")
    explicit_rounds = rounds is not None and rounds != DEFAULT_ROUNDS
    count = DEFAULT_ROUNDS if rounds is None else rounds
    if not MIN_ROUNDS <= count <= MAX_ROUNDS:
        raise ValueError(f"rounds must be between {MIN_ROUNDS} and {MAX_ROUNDS}, not {count}")

    key = password.encode("utf-8") if isinstance(password, str) else password
    salt_bytes = salt.encode("ascii")
    key_len = len(key)

    alternate = new(key + salt_bytes + key).digest()
    a = new(key + salt_bytes + _repeat_to(alternate, key_len))
    n = key_len
    while n:
        a.update(alternate if n & 1 else key)
        n >>= 1
    result: bytes = a.digest()

    p_seq = _repeat_to(new(key * key_len).digest(), key_len)
    s_seq = _repeat_to(new(salt_bytes * (16 + result[0])).digest(), len(salt_bytes))

    for r in range(count):
        c = new()
        c.update(p_seq if r & 1 else result)
        if r % 3:
            c.update(s_seq)
        if r % 7:
            c.update(p_seq)
        c.update(result if r & 1 else p_seq)
        result = c.digest()

    head = f"${ident}$" + (f"rounds={count}$" if explicit_rounds else "") + salt
    return f"{head}${_encode(result, order)}"
