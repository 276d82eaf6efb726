"""A position in a list of tokens: what the hand-written parsers (``${{ }}``
expressions, Jenkinsfiles) share."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Protocol, TypeVar

__all__ = ["TokenCursor"]


class _TokenLike(Protocol):
    @property
    def kind(self) -> Any: ...
    @property
    def text(self) -> str: ...


TokenT = TypeVar("TokenT", bound=_TokenLike)


class TokenCursor(Generic[TokenT]):
    """``tok`` is the current token; ``at``/``expect`` test for operator tokens (of the
    kind ``OPERATOR``); ``unexpected`` makes the parser's own syntax error."""

    OPERATOR: ClassVar[Any]

    def __init__(self, tokens: list[TokenT]) -> None:
        self.tokens = tokens
        self.i = 0

    @property
    def tok(self) -> TokenT:
        return self.tokens[self.i]

    def take(self) -> TokenT:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at(self, *texts: str) -> bool:
        return bool(self.tok.kind is self.OPERATOR and self.tok.text in texts)

    def expect(self, text: str) -> TokenT:
        if not self.at(text):
            raise self.unexpected(f"expected '{text}'")
        return self.take()

    def unexpected(self, why: str = "") -> Exception:
        raise NotImplementedError
