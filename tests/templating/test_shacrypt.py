"""SHA-crypt against hashes made by openssl passwd -5/-6 and passlib (references)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from opsforge.templating._shacrypt import SALT_CHARS, random_salt, sha_crypt

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "shacrypt.yml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["hash"][:16] for c in CASES])
def test_reference_hashes(case: dict[str, Any]) -> None:
    hashed = sha_crypt(case["password"], case["salt"], bits=case["bits"], rounds=case["rounds"])
    assert hashed == case["hash"]


@pytest.mark.parametrize(
    ("salt", "rounds", "bits", "message"),
    [
        ("a" * 17, None, 512, "salt too long"),
        ("bad$salt", None, 512, "salt characters"),
        ("ok", 999, 512, "rounds must be between"),
        ("ok", None, 384, "256 and 512"),
    ],
)
def test_bad_parameters(salt: str, rounds: int | None, bits: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sha_crypt("pw", salt, bits=bits, rounds=rounds)


def test_random_salt() -> None:
    salt = random_salt()
    assert len(salt) == 16
    assert set(salt) <= set(SALT_CHARS)
    assert random_salt() != salt
