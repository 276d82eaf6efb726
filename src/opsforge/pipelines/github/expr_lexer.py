"""Tokens of the GitHub Actions expression language.

Literals are ``true``/``false``/``null``, numbers in any JSON form plus hex (``0xff``),
octal (``0o17``), ``Infinity`` and ``NaN`` (a leading ``-`` belongs to the number: there is
no unary minus), and single-quoted strings where ``''`` is a quote. Identifiers may hold
``-`` after the first character (``steps.my-step.outputs``).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

__all__ = ["LexError", "Token", "TokenKind", "parse_number", "tokenize"]


class TokenKind(enum.Enum):
    NUMBER = "number"
    STRING = "string"
    TRUE = "true"
    FALSE = "false"
    NULL = "null"
    IDENT = "identifier"
    OP = "operator"
    END = "end of expression"


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    pos: int  # 0-based offset into the expression text
    value: float | str | None = None


class LexError(ValueError):
    """A character sequence that is no token; ``pos`` is its offset."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


_OPERATORS = ("<=", ">=", "==", "!=", "&&", "||", "(", ")", "[", "]", ".", ",", "!", "<", ">", "*")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# a run of characters that can make up a number literal; validated by parse_number
_NUMBERISH = re.compile(r"[+-]?(?:0[xXoO][0-9A-Za-z]*|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_KEYWORDS = {"true": TokenKind.TRUE, "false": TokenKind.FALSE, "null": TokenKind.NULL}


def parse_number(text: str) -> float:
    """GitHub's string-to-number rule: trimmed; '' is 0; JSON numbers, hex, octal,
    Infinity; anything else is NaN."""
    s = text.strip()
    if not s:
        return 0.0
    sign = -1.0 if s[0] == "-" else 1.0
    body = s[1:] if s[0] in "+-" else s
    low = body.lower()
    try:
        if low.startswith("0x") and len(body) > 2:
            return sign * int(body[2:], 16)
        if low.startswith("0o") and len(body) > 2:
            return sign * int(body[2:], 8)
    except ValueError:
        return float("nan")
    if body == "Infinity":
        return sign * float("inf")
    if _DECIMAL.fullmatch(s):
        return float(s)
    return float("nan")


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens (always ends with an END token)."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "'":
            j, parts = i + 1, []
            while True:
                k = text.find("'", j)
                if k < 0:
                    raise LexError("unterminated string literal", i)
                parts.append(text[j:k])
                if text.startswith("''", k):
                    parts.append("'")
                    j = k + 2
                    continue
                break
            tokens.append(Token(TokenKind.STRING, text[i : k + 1], i, "".join(parts)))
            i = k + 1
            continue
        if ch == '"':
            raise LexError("strings take single quotes ('...'), not double quotes", i)
        previous = tokens[-1] if tokens else None
        after_dot = previous is not None and previous.kind is TokenKind.OP and previous.text == "."
        if ch in "+-" and text.startswith("Infinity", i + 1):
            literal = text[i : i + 9]
            tokens.append(Token(TokenKind.NUMBER, literal, i, parse_number(literal)))
            i += 9
            continue
        if ch.isdigit() or (ch in "+-." and not after_dot and _starts_number(text, i)):
            m = _NUMBERISH.match(text, i)
            if m is not None:
                end = m.end()
                while end < n and (text[end].isalnum() or text[end] in "_"):
                    end += 1
                literal = text[i:end]
                value = parse_number(literal)
                if value != value and literal.strip("+-") != "NaN":  # NaN: not a number
                    raise LexError(f"unexpected symbol {literal!r}", i)
                tokens.append(Token(TokenKind.NUMBER, literal, i, value))
                i = end
                continue
        m = _IDENT.match(text, i)
        if m is not None:
            word = m.group()
            if not after_dot and word in ("NaN", "Infinity"):
                tokens.append(Token(TokenKind.NUMBER, word, i, parse_number(word)))
            elif not after_dot and word in _KEYWORDS:
                tokens.append(Token(_KEYWORDS[word], word, i))
            else:
                tokens.append(Token(TokenKind.IDENT, word, i, word))
            i = m.end()
            continue
        for op in _OPERATORS:
            if text.startswith(op, i):
                tokens.append(Token(TokenKind.OP, op, i))
                i += len(op)
                break
        else:
            raise LexError(f"unexpected character {ch!r}", i)
    tokens.append(Token(TokenKind.END, "", n))
    return tokens


def _starts_number(text: str, i: int) -> bool:
    j = i + 1 if text[i] in "+-" else i
    if text[j : j + 1].isdigit():
        return True
    return text[j : j + 1] == "." and text[j + 1 : j + 2].isdigit()
