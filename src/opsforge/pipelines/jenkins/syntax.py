"""The Jenkinsfile syntax tree and its parser (declarative subset).

A file is a list of statements. A statement is a call — ``name(args) { block }``,
``name args`` (a command without parentheses, ended by a newline), ``name { block }`` —
an assignment ``NAME = expr`` (``environment``), or, inside ``expression { }``, a Groovy
expression (``return`` optional). ``script { }`` blocks are kept as their line only:
Groovy code is not run.
"""

from __future__ import annotations

from dataclasses import dataclass

from opsforge.pipelines.github.cursor import TokenCursor
from opsforge.pipelines.jenkins.lexer import JenkinsSyntaxError, Tok, Token, tokenize

__all__ = [
    "Assign",
    "Binary",
    "Call",
    "Expr",
    "ListLit",
    "Literal",
    "MapLit",
    "Member",
    "MethodCall",
    "Name",
    "Not",
    "Script",
    "Stmt",
    "StringLit",
    "parse",
    "parse_expression",
]


@dataclass(frozen=True)
class Literal:
    value: bool | float | None
    line: int


@dataclass(frozen=True)
class StringLit:
    value: str
    interpolated: bool
    line: int


@dataclass(frozen=True)
class Name:
    name: str
    line: int


@dataclass(frozen=True)
class Member:
    obj: Expr
    name: str
    line: int


@dataclass(frozen=True)
class MethodCall:
    obj: Expr | None  # None: a plain function call, e.g. credentials('id')
    name: str
    args: tuple[Expr, ...]
    line: int


@dataclass(frozen=True)
class ListLit:
    items: tuple[Expr, ...]
    line: int


@dataclass(frozen=True)
class MapLit:
    items: tuple[tuple[str, Expr], ...]
    line: int


@dataclass(frozen=True)
class Not:
    operand: Expr
    line: int


@dataclass(frozen=True)
class Binary:
    op: str
    left: Expr
    right: Expr
    line: int


Expr = Literal | StringLit | Name | Member | MethodCall | ListLit | MapLit | Not | Binary


@dataclass(frozen=True)
class Call:
    name: str
    line: int
    args: tuple[Expr, ...] = ()
    named: tuple[tuple[str, Expr], ...] = ()
    block: tuple[Stmt, ...] | None = None


@dataclass(frozen=True)
class Assign:
    name: str
    value: Expr
    line: int


@dataclass(frozen=True)
class Script:
    """A ``script { }`` block (Groovy code; not run) or an expression statement."""

    line: int
    expr: Expr | None = None


Stmt = Call | Assign | Script

_BINARY = (("||",), ("&&",), ("==", "!=", "=~", "==~"), ("<", "<=", ">", ">="))
_CALL_END = ("\n", ";", "}")


class _Parser(TokenCursor[Token]):
    OPERATOR = Tok.PUNCT

    def __init__(self, tokens: list[Token]) -> None:
        super().__init__(tokens)
        self.depth = 0

    def unexpected(self, why: str = "") -> JenkinsSyntaxError:
        tok = self.tok
        what = {Tok.END: "end of file", Tok.NEWLINE: "end of line"}.get(tok.kind, repr(tok.text))
        return JenkinsSyntaxError(f"unexpected {what}" + (f" ({why})" if why else ""), tok.line)

    def skip_line_ends(self) -> None:
        while self.tok.kind is Tok.NEWLINE:
            self.take()

    def skip_newlines(self) -> None:
        while self.tok.kind is Tok.NEWLINE or self.at(";"):
            self.take()

    # -- statements -----------------------------------------------------------------
    def statements(self, until_brace: bool, expression_mode: bool = False) -> tuple[Stmt, ...]:
        out: list[Stmt] = []
        while True:
            self.skip_newlines()
            if self.tok.kind is Tok.END:
                if until_brace:
                    raise self.unexpected("a '{' block is not closed")
                return tuple(out)
            if self.at("}"):
                if not until_brace:
                    raise self.unexpected("'}' without an open block")
                return tuple(out)
            out.append(self.expression_statement() if expression_mode else self.statement())

    def expression_statement(self) -> Stmt:
        line = self.tok.line
        if self.tok.kind is Tok.IDENT and self.tok.text == "return":
            self.take()
        return Script(line, self.expr())

    def block(self, expression_mode: bool = False) -> tuple[Stmt, ...]:
        self.expect("{")
        self.depth += 1
        if self.depth > 100:
            raise JenkinsSyntaxError("blocks nested too deep", self.tok.line)
        body = self.statements(True, expression_mode)
        self.expect("}")
        self.depth -= 1
        return body

    def skip_block(self) -> None:
        self.expect("{")
        level = 1
        while level:
            tok = self.take()
            if tok.kind is Tok.END:
                raise JenkinsSyntaxError("a '{' block is not closed", tok.line)
            if tok.kind is Tok.PUNCT and tok.text in "{}":
                level += 1 if tok.text == "{" else -1

    def statement(self) -> Stmt:
        tok = self.tok
        if tok.kind is not Tok.IDENT:
            raise self.unexpected("expected a section, directive or step name")
        self.take()
        if self.at("="):
            self.take()
            return Assign(tok.text, self.expr(), tok.line)
        if tok.text == "script" and self.at("{"):
            self.skip_block()
            return Script(tok.line)
        args: list[Expr] = []
        named: list[tuple[str, Expr]] = []
        if self.at("("):
            self.take()
            self.arguments(args, named, (")",))
            self.expect(")")
        elif not (self.at("{") or self.tok.kind in (Tok.NEWLINE, Tok.END) or self.at(*_CALL_END)):
            self.arguments(args, named, (*_CALL_END, "{"))
        block = None
        if self.at("{"):
            block = self.block(expression_mode=tok.text == "expression")
        return Call(tok.text, tok.line, tuple(args), tuple(named), block)

    def arguments(
        self, args: list[Expr], named: list[tuple[str, Expr]], end: tuple[str, ...]
    ) -> None:
        while True:
            if ")" in end or "]" in end:
                self.skip_line_ends()
            if self.at(*end) or (self.tok.kind in (Tok.NEWLINE, Tok.END)):
                return
            if (
                self.tok.kind in (Tok.IDENT, Tok.STRING)
                and self.tokens[self.i + 1].kind is (Tok.PUNCT)
                and self.tokens[self.i + 1].text == ":"
            ):
                key = self.take()
                self.take()
                named.append((key.value or key.text, self.expr()))
            else:
                args.append(self.expr())
            if ")" in end or "]" in end:
                self.skip_line_ends()
            if not self.at(","):
                return
            self.take()

    # -- expressions ----------------------------------------------------------------
    def expr(self, level: int = 0) -> Expr:
        if level == len(_BINARY):
            return self.unary()
        node = self.expr(level + 1)
        while self.at(*_BINARY[level]):
            op = self.take()
            node = Binary(op.text, node, self.expr(level + 1), op.line)
        return node

    def unary(self) -> Expr:
        if self.at("!"):
            line = self.take().line
            return Not(self.unary(), line)
        node = self.primary()
        while True:
            if self.at(".", "?."):
                self.take()
                if self.tok.kind is not Tok.IDENT:
                    raise self.unexpected("expected a name after '.'")
                name = self.take()
                if self.at("("):
                    node = MethodCall(node, name.text, self.call_args(), name.line)
                else:
                    node = Member(node, name.text, name.line)
            elif self.at("["):
                line = self.take().line
                index = self.expr()
                self.expect("]")
                node = MethodCall(node, "getAt", (index,), line)
            else:
                return node

    def call_args(self) -> tuple[Expr, ...]:
        self.expect("(")
        args: list[Expr] = []
        named: list[tuple[str, Expr]] = []
        self.arguments(args, named, (")",))
        self.expect(")")
        if named:
            args.append(MapLit(tuple(named), self.tok.line))
        return tuple(args)

    def primary(self) -> Expr:
        tok = self.tok
        if tok.kind is Tok.STRING:
            self.take()
            return StringLit(tok.value, tok.interpolated, tok.line)
        if tok.kind is Tok.NUMBER:
            self.take()
            return Literal(float(tok.text), tok.line)
        if tok.kind is Tok.IDENT:
            self.take()
            if tok.text in ("true", "false"):
                return Literal(tok.text == "true", tok.line)
            if tok.text == "null":
                return Literal(None, tok.line)
            if self.at("("):
                return MethodCall(None, tok.text, self.call_args(), tok.line)
            return Name(tok.text, tok.line)
        if self.at("("):
            self.take()
            node = self.expr()
            self.expect(")")
            return node
        if self.at("["):
            return self.collection()
        if self.at("-") and self.tokens[self.i + 1].kind is Tok.NUMBER:
            self.take()
            number = self.take()
            return Literal(-float(number.text), number.line)
        raise self.unexpected("expected a value")

    def collection(self) -> Expr:
        line = self.expect("[").line
        if self.at(":"):
            self.take()
            self.expect("]")
            return MapLit((), line)
        args: list[Expr] = []
        named: list[tuple[str, Expr]] = []
        self.arguments(args, named, ("]",))
        self.skip_line_ends()
        self.expect("]")
        if named and args:
            raise JenkinsSyntaxError("a list mixes values and key: value pairs", line)
        return MapLit(tuple(named), line) if named else ListLit(tuple(args), line)


def parse(text: str) -> tuple[Stmt, ...]:
    """Parse a Jenkinsfile; raises :class:`JenkinsSyntaxError` with the line."""
    return _Parser(tokenize(text)).statements(False)


def parse_expression(text: str) -> Expr:
    """Parse one Groovy expression (the inside of ``${...}``)."""
    parser = _Parser(tokenize(text))
    node = parser.expr()
    parser.skip_newlines()
    if parser.tok.kind is not Tok.END:
        raise parser.unexpected()
    return node
