"""Secret masking for pipeline output: every secret value, and its base64 forms, become ``***``.

A value is masked as written, and as base64 of it in any of the three alignments it
can take inside a longer base64 string (so ``echo "user:$PASS" | base64`` is masked
too, not only ``echo $PASS | base64``). Values shorter than :data:`MIN_LENGTH` are not
masked (masking "a" would destroy every line); the loader warns about them.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable

__all__ = ["MASK", "MIN_LENGTH", "Masker"]

MASK = "***"
MIN_LENGTH = 4


def _base64_forms(value: str) -> set[str]:
    """Substrings that appear in any base64 encoding containing ``value``."""
    raw = value.encode()
    forms: set[str] = set()
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + raw).decode()
        # drop characters that depend on the bytes before (prefix) or after (suffix)
        start = {0: 0, 1: 2, 2: 3}[pad]
        total = pad + len(raw)
        end_bytes = total - total % 3  # characters fully determined by the value's bytes
        stop = end_bytes // 3 * 4
        chunk = encoded[start:stop]
        if len(chunk) >= MIN_LENGTH:
            forms.add(chunk)
    forms.add(base64.b64encode(raw).decode().rstrip("="))
    forms.add(base64.b64encode(raw + b"\n").decode().rstrip("="))
    return {f for f in forms if len(f) >= MIN_LENGTH}


class Masker:
    """Replaces secrets in text. Empty or short values are ignored."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        fresh = {s for s in secrets if len(s) >= MIN_LENGTH} - self._values
        if not fresh:
            return
        self._values |= fresh
        needles: set[str] = set()
        for value in self._values:
            needles.add(value)
            needles |= _base64_forms(value)
        ordered = sorted(needles, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(n) for n in ordered))

    def __bool__(self) -> bool:
        return self._pattern is not None

    def mask(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)
