"""GitLab's ``rules:if`` / ``only:variables`` expression language.

Grammar (``||`` binds looser than ``&&``)::

    expr     := and ('||' and)*
    and      := compare ('&&' compare)*
    compare  := operand (('==' | '!=' | '=~' | '!~') operand)?
    operand  := '(' expr ')' | $VAR | ${VAR} | "string" | 'string' | /regex/flags | null

A lone ``$VAR`` is true when the variable is defined and not empty. ``=~`` searches the
left value with the regex on the right (a literal, or a variable holding ``/re/flags``);
an undefined left side never matches. Syntax errors are :class:`ExpressionError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opsforge.pipelines.errors import ExpressionError

__all__ = ["Expression", "parse_expression"]

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<var>\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*)
    |(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    |(?P<regex>/(?:[^/\\]|\\.)*/[imsx]*)
    |(?P<op>==|!=|=~|!~|&&|\|\||\(|\))
    |(?P<null>null\b)
    )""",
    re.VERBOSE,
)

_Node = tuple[
    Any, ...
]  # ("var", name) | ("str", s) | ("regex", pattern, flags) | ("null",) | (op, a, b)


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _tokens(text: str, where: dict[str, object]) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise _error(text, pos, "unexpected character", where)
        kind = match.lastgroup or ""
        toks.append(_Tok(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return toks


def _error(text: str, pos: int, message: str, where: dict[str, object]) -> ExpressionError:
    path = where.get("path")
    line = where.get("line")
    job = where.get("job")
    return ExpressionError(
        f"{message} at column {pos + 1} of expression {text!r}",
        path=path if isinstance(path, str) else None,
        line=line if isinstance(line, int) else None,
        job=job if isinstance(job, str) else None,
    )


class _Parser:
    def __init__(self, text: str, where: dict[str, object]) -> None:
        self.text = text
        self.where = where
        self.toks = _tokens(text, where)
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def fail(self, message: str) -> ExpressionError:
        tok = self.peek()
        return _error(self.text, tok.pos if tok else len(self.text), message, self.where)

    def parse(self) -> _Node:
        if not self.toks:
            raise self.fail("empty expression")
        node = self.or_()
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek().text!r}")  # type: ignore[union-attr]
        return node

    def or_(self) -> _Node:
        node = self.and_()
        while (tok := self.peek()) is not None and tok.text == "||":
            self.i += 1
            node = ("||", node, self.and_())
        return node

    def and_(self) -> _Node:
        node = self.compare()
        while (tok := self.peek()) is not None and tok.text == "&&":
            self.i += 1
            node = ("&&", node, self.compare())
        return node

    def compare(self) -> _Node:
        left = self.operand()
        tok = self.peek()
        if tok is not None and tok.text in ("==", "!=", "=~", "!~"):
            self.i += 1
            right = self.operand()
            if tok.text in ("=~", "!~") and right[0] not in ("regex", "var"):
                raise _error(
                    self.text, tok.pos, f"{tok.text} needs a /regex/ on the right", self.where
                )
            return (tok.text, left, right)
        return left

    def operand(self) -> _Node:
        tok = self.peek()
        if tok is None:
            raise self.fail("expression ends too early")
        self.i += 1
        if tok.text == "(":
            node = self.or_()
            closing = self.peek()
            if closing is None or closing.text != ")":
                raise self.fail("missing ')'")
            self.i += 1
            return node
        if tok.kind == "var":
            return ("var", tok.text.strip("${}"))
        if tok.kind == "str":
            body = tok.text[1:-1]
            return ("str", re.sub(r"\\(.)", r"\1", body))
        if tok.kind == "regex":
            end = tok.text.rindex("/")
            return ("regex", tok.text[1:end], tok.text[end + 1 :])
        if tok.kind == "null":
            return ("null",)
        self.i -= 1
        raise self.fail(f"unexpected {tok.text!r}")


def _flags(letters: str) -> int:
    flags = 0
    for letter in letters:
        flags |= {"i": re.I, "m": re.M, "s": re.S, "x": re.X}.get(letter, 0)
    return flags


def _regex(node: _Node, env: Mapping[str, str]) -> re.Pattern[str] | None:
    if node[0] == "regex":
        return re.compile(node[1], _flags(node[2]))
    value = env.get(node[1])
    if value is None:
        return None
    match = re.fullmatch(r"/(.*)/([imsx]*)", value, re.S)
    if match is None:
        return re.compile(re.escape(value))
    return re.compile(match.group(1), _flags(match.group(2)))


class Expression:
    """A parsed expression; :meth:`evaluate` against variables."""

    def __init__(
        self, text: str, *, path: str | None = None, line: int | None = None, job: str | None = None
    ) -> None:
        self.text = text
        self._node = _Parser(text, {"path": path, "line": line, "job": job}).parse()

    def evaluate(self, env: Mapping[str, str]) -> bool:
        return bool(self._truth(self._node, env))

    def _value(self, node: _Node, env: Mapping[str, str]) -> str | None:
        kind = node[0]
        if kind == "var":
            return env.get(node[1])
        if kind == "str":
            return str(node[1])
        if kind == "null":
            return None
        if kind == "regex":
            return f"/{node[1]}/{node[2]}"
        return "true" if self._truth(node, env) else None

    def _truth(self, node: _Node, env: Mapping[str, str]) -> bool:
        kind = node[0]
        if kind == "||":
            return self._truth(node[1], env) or self._truth(node[2], env)
        if kind == "&&":
            return self._truth(node[1], env) and self._truth(node[2], env)
        if kind in ("==", "!="):
            equal = self._value(node[1], env) == self._value(node[2], env)
            return equal if kind == "==" else not equal
        if kind in ("=~", "!~"):
            left = self._value(node[1], env)
            pattern = _regex(node[2], env)
            found = left is not None and pattern is not None and pattern.search(left) is not None
            return found if kind == "=~" else not found
        value = self._value(node, env)
        return value is not None and value != ""


def parse_expression(
    text: str, *, path: str | None = None, line: int | None = None, job: str | None = None
) -> Expression:
    return Expression(text, path=path, line=line, job=job)
