"""Tokens of the declarative Jenkinsfile subset (Groovy syntax, without Groovy).

Comments (``//``, ``/* */``) are dropped; newlines are tokens (a command call without
parentheses ends at one). Strings: ``'...'`` and ``'''...'''`` are literal; ``"..."``
and ``\"\"\"...\"\"\"`` may hold ``${...}``/``$NAME`` interpolation (kept as written and
resolved by the loader). Every token knows its line.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

__all__ = ["JenkinsSyntaxError", "Tok", "Token", "tokenize"]


class Tok(enum.Enum):
    IDENT = "identifier"
    STRING = "string"  # value: the text; interpolated: True for "..." strings
    NUMBER = "number"
    PUNCT = "symbol"
    NEWLINE = "newline"
    END = "end of file"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Tok
    text: str
    line: int
    value: str = ""
    interpolated: bool = False


class JenkinsSyntaxError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


_PUNCT = (
    "==~",
    "=~",
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "?.",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "=",
    ".",
    "!",
    "<",
    ">",
    ";",
    "+",
    "-",
    "*",
    "?",
)
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "$": "\\$", "\n": ""}


def _string(text: str, i: int, line: int) -> tuple[Token, int, int]:
    for quote in ("'''", '"""', "'", '"'):
        if text.startswith(quote, i):
            break
    j, parts, start_line = i + len(quote), [], line
    while True:
        if j >= len(text):
            raise JenkinsSyntaxError(f"unterminated string (opened with {quote})", start_line)
        if text.startswith(quote, j):
            break
        ch = text[j]
        if ch == "\n":
            if len(quote) == 1:
                raise JenkinsSyntaxError("a newline inside a one-line string", line)
            line += 1
        if ch == "\\" and j + 1 < len(text):
            nxt = text[j + 1]
            literal = "$" if nxt == "$" and quote[0] == "'" else None
            parts.append(literal or _ESCAPES.get(nxt, "\\" + nxt))
            line += nxt == "\n"
            j += 2
            continue
        parts.append(ch)
        j += 1
    value = "".join(parts)
    if len(quote) == 3 and value.startswith("\n"):
        value = value[1:]
    token = Token(Tok.STRING, text[i : j + len(quote)], start_line, value, quote[0] == '"')
    return token, j + len(quote), line


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, line = 0, 1
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            tokens.append(Token(Tok.NEWLINE, "\n", line))
            line += 1
            i += 1
        elif ch in " \t\r\f":
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise JenkinsSyntaxError("unterminated /* comment", line)
            line += text.count("\n", i, end)
            i = end + 2
        elif ch == "\\" and text.startswith("\n", i + 1):  # line continuation
            line += 1
            i += 2
        elif ch in "'\"":
            token, i, line = _string(text, i, line)
            tokens.append(token)
        elif m := _NUMBER.match(text, i):
            tokens.append(Token(Tok.NUMBER, m.group(), line, m.group()))
            i = m.end()
        elif m := _IDENT.match(text, i):
            tokens.append(Token(Tok.IDENT, m.group(), line, m.group()))
            i = m.end()
        else:
            for op in _PUNCT:
                if text.startswith(op, i):
                    tokens.append(Token(Tok.PUNCT, op, line))
                    i += len(op)
                    break
            else:
                raise JenkinsSyntaxError(f"unexpected character {ch!r}", line)
    tokens.append(Token(Tok.END, "", line))
    return tokens
