"""Parse a GitHub Actions expression into a small immutable tree.

Precedence, lowest first: ``||``, ``&&``, ``==``/``!=``, ``<``/``<=``/``>``/``>=``, ``!``,
then property access ``.name``, index ``[expr]`` and the object filter ``.*``/``[*]``.
Top-level names must be contexts the caller allows, and function names and argument
counts are checked, so a typo fails when the workflow loads, not when the job runs.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from opsforge.pipelines.github.cursor import TokenCursor
from opsforge.pipelines.github.expr_lexer import LexError, Token, TokenKind, tokenize

__all__ = [
    "ALL_CONTEXTS",
    "FUNCTIONS",
    "STATUS_FUNCTIONS",
    "Binary",
    "Call",
    "ContextRef",
    "Filter",
    "Index",
    "Literal",
    "Logical",
    "Member",
    "Node",
    "Not",
    "ParseError",
    "context_names",
    "parse",
    "uses_status_function",
]

ALL_CONTEXTS = frozenset(
    {
        "github",
        "env",
        "vars",
        "matrix",
        "needs",
        "steps",
        "secrets",
        "inputs",
        "runner",
        "job",
        "strategy",
    }
)
#: name -> (least, most) arguments; ``None`` is no upper bound
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "contains": (2, 2),
    "startswith": (2, 2),
    "endswith": (2, 2),
    "format": (1, None),
    "join": (1, 2),
    "tojson": (1, 1),
    "fromjson": (1, 1),
    "hashfiles": (1, None),
    "success": (0, 0),
    "failure": (0, 0),
    "always": (0, 0),
    "cancelled": (0, 0),
}
STATUS_FUNCTIONS = frozenset({"success", "failure", "always", "cancelled"})


class ParseError(ValueError):
    """A syntax error at offset ``pos`` of the expression."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


@dataclass(frozen=True, slots=True)
class Literal:
    value: bool | float | str | None


@dataclass(frozen=True, slots=True)
class ContextRef:
    name: str


@dataclass(frozen=True, slots=True)
class Member:
    obj: Node
    name: str


@dataclass(frozen=True, slots=True)
class Index:
    obj: Node
    index: Node


@dataclass(frozen=True, slots=True)
class Filter:
    obj: Node


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # == != < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Logical:
    op: str  # && ||
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # lower case
    args: tuple[Node, ...]


Node = Literal | ContextRef | Member | Index | Filter | Not | Binary | Logical | Call

_MAX_DEPTH = 50


class _Parser(TokenCursor[Token]):
    OPERATOR = TokenKind.OP

    def __init__(self, text: str, contexts: Collection[str]) -> None:
        try:
            super().__init__(tokenize(text))
        except LexError as exc:
            raise ParseError(str(exc), exc.pos) from None
        self.contexts = {c.lower() for c in contexts}
        self.depth = 0

    def unexpected(self, why: str = "") -> ParseError:
        tok = self.tok
        shown = "end of expression" if tok.kind is TokenKind.END else f"symbol {tok.text!r}"
        return ParseError(f"unexpected {shown}" + (f" ({why})" if why else ""), tok.pos)

    def parse(self) -> Node:
        if self.tok.kind is TokenKind.END:
            raise ParseError("empty expression", 0)
        node = self.logical("||")
        if not self.at_end():
            raise self.unexpected()
        return node

    def at_end(self) -> bool:
        return self.tok.kind is TokenKind.END

    def logical(self, op: str) -> Node:
        sub = self.logical_and if op == "||" else self.equality
        node = sub()
        while self.at(op):
            self.take()
            node = Logical(op, node, sub())
        return node

    def logical_and(self) -> Node:
        return self.logical("&&")

    def equality(self) -> Node:
        node = self.comparison()
        while self.at("==", "!="):
            op = self.take().text
            node = Binary(op, node, self.comparison())
        return node

    def comparison(self) -> Node:
        node = self.unary()
        while self.at("<", "<=", ">", ">="):
            op = self.take().text
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.at("!"):
            self.take()
            return Not(self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            if self.at("."):
                self.take()
                if self.at("*"):
                    self.take()
                    node = Filter(node)
                elif self.tok.kind in (
                    TokenKind.IDENT,
                    TokenKind.TRUE,
                    TokenKind.FALSE,
                    TokenKind.NULL,
                ):
                    node = Member(node, self.take().text)
                else:
                    raise self.unexpected("expected a property name or '*' after '.'")
            elif self.at("["):
                self.take()
                if self.at("*"):
                    self.take()
                    node = Filter(node)
                else:
                    node = Index(node, self.nested())
                self.expect("]")
            else:
                return node

    def nested(self) -> Node:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise ParseError(f"expression nested deeper than {_MAX_DEPTH} levels", self.tok.pos)
        node = self.logical("||")
        self.depth -= 1
        return node

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind is TokenKind.NUMBER or tok.kind is TokenKind.STRING:
            self.take()
            return Literal(tok.value)
        if tok.kind is TokenKind.TRUE or tok.kind is TokenKind.FALSE:
            self.take()
            return Literal(tok.kind is TokenKind.TRUE)
        if tok.kind is TokenKind.NULL:
            self.take()
            return Literal(None)
        if self.at("("):
            self.take()
            node = self.nested()
            self.expect(")")
            return node
        if tok.kind is TokenKind.IDENT:
            self.take()
            if self.at("("):
                return self.call(tok)
            name = tok.text.lower()
            if name not in self.contexts:
                if name in ALL_CONTEXTS:
                    raise ParseError(f"context '{tok.text}' is not available here", tok.pos)
                raise ParseError(f"unrecognized named-value: '{tok.text}'", tok.pos)
            return ContextRef(name)
        raise self.unexpected()

    def call(self, name_tok: Token) -> Node:
        name = name_tok.text.lower()
        if name not in FUNCTIONS:
            raise ParseError(f"unrecognized function: '{name_tok.text}'", name_tok.pos)
        self.expect("(")
        args: list[Node] = []
        if not self.at(")"):
            args.append(self.nested())
            while self.at(","):
                self.take()
                args.append(self.nested())
        self.expect(")")
        least, most = FUNCTIONS[name]
        if len(args) < least or (most is not None and len(args) > most):
            wanted = (
                str(least)
                if least == most
                else f"{least}+"
                if most is None
                else (f"{least} to {most}")
            )
            raise ParseError(
                f"{name_tok.text}() takes {wanted} argument(s), got {len(args)}", name_tok.pos
            )
        return Call(name, tuple(args))


def parse(text: str, contexts: Collection[str] = ALL_CONTEXTS) -> Node:
    """Parse ``text`` (without ``${{ }}``); raises :class:`ParseError` with an offset."""
    return _Parser(text, contexts).parse()


def uses_status_function(node: Node) -> bool:
    """Whether a status function (success/failure/always/cancelled) appears anywhere."""
    if isinstance(node, Call):
        return node.name in STATUS_FUNCTIONS or any(uses_status_function(a) for a in node.args)
    if isinstance(node, Member | Filter):
        return uses_status_function(node.obj)
    if isinstance(node, Index):
        return uses_status_function(node.obj) or uses_status_function(node.index)
    if isinstance(node, Not):
        return uses_status_function(node.operand)
    if isinstance(node, Binary | Logical):
        return uses_status_function(node.left) or uses_status_function(node.right)
    return False


def context_names(node: Node) -> frozenset[str]:
    """Every context a tree reads (``needs``, ``matrix``, ...)."""
    if isinstance(node, ContextRef):
        return frozenset({node.name})
    if isinstance(node, Call):
        return frozenset().union(*(context_names(a) for a in node.args))
    if isinstance(node, Member | Filter):
        return context_names(node.obj)
    if isinstance(node, Index):
        return context_names(node.obj) | context_names(node.index)
    if isinstance(node, Not):
        return context_names(node.operand)
    if isinstance(node, Binary | Logical):
        return context_names(node.left) | context_names(node.right)
    return frozenset()
