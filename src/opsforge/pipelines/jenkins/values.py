"""Evaluating the Groovy a declarative pipeline may hold where opsforge reads it at load
time: ``when { expression { ... } }``, ``environment`` values, GString interpolation
(``"${env.X}"``, ``"$X"``) in ``sh``/``echo`` arguments.

Names are ``env.NAME``, ``params.NAME`` or a bare ``NAME`` (an environment variable, as in
Jenkins); strings have ``startsWith``/``endsWith``/``contains``/``equals``/
``equalsIgnoreCase``/``matches``/``trim``/``toLowerCase``/``toUpperCase``/``toBoolean``/
``toInteger``; operators ``== != < <= > >= && || ! =~ ==~``. Truth is Groovy truth (null,
false, 0 and '' are false). Anything else is an error naming the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from opsforge.pipelines.jenkins.lexer import JenkinsSyntaxError
from opsforge.pipelines.jenkins.syntax import (
    Binary,
    Expr,
    ListLit,
    Literal,
    MapLit,
    Member,
    MethodCall,
    Name,
    Not,
    StringLit,
    parse_expression,
)

__all__ = ["Env", "GroovyError", "interpolate", "truth"]


class GroovyError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def truth(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0
    if isinstance(value, str | list | dict):
        return len(value) > 0
    return True


def _text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_METHODS: dict[str, Callable[..., Any]] = {
    "startsWith": lambda s, p: s.startswith(_text(p)),
    "endsWith": lambda s, p: s.endswith(_text(p)),
    "contains": lambda s, p: _text(p) in s if isinstance(s, str) else p in s,
    "equals": lambda s, p: s == p,
    "equalsIgnoreCase": lambda s, p: s.lower() == _text(p).lower(),
    "matches": lambda s, p: re.fullmatch(_text(p), s) is not None,
    "trim": lambda s: s.strip(),
    "toLowerCase": lambda s: s.lower(),
    "toUpperCase": lambda s: s.upper(),
    "toBoolean": lambda s: s.strip().lower() == "true",
    "toInteger": lambda s: int(s.strip()),
    "size": lambda s: len(s),
    "isEmpty": lambda s: len(s) == 0,
}


@dataclass(frozen=True)
class Env:
    """What names resolve to: the environment (``env``) and the build parameters."""

    env: Mapping[str, str]
    params: Mapping[str, Any]

    def evaluate(self, node: Expr) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, StringLit):
            return self.interpolate(node.value, node.line) if node.interpolated else node.value
        if isinstance(node, Name):
            if node.name == "env":
                return dict(self.env)
            if node.name == "params":
                return dict(self.params)
            if node.name in self.env:
                return self.env[node.name]
            if node.name in self.params:
                return self.params[node.name]
            raise GroovyError(
                f"unknown name {node.name!r} (use env.NAME or params.NAME)", node.line
            )
        if isinstance(node, Member):
            obj = self.evaluate(node.obj)
            if isinstance(obj, Mapping):
                return obj.get(node.name)
            raise GroovyError(f"cannot read .{node.name} of {_text(obj)!r}", node.line)
        if isinstance(node, ListLit):
            return [self.evaluate(item) for item in node.items]
        if isinstance(node, MapLit):
            return {key: self.evaluate(item) for key, item in node.items}
        if isinstance(node, Not):
            return not truth(self.evaluate(node.operand))
        if isinstance(node, Binary):
            return self.binary(node)
        return self.method(node)

    def binary(self, node: Binary) -> Any:
        if node.op == "&&":
            return truth(self.evaluate(node.left)) and truth(self.evaluate(node.right))
        if node.op == "||":
            return truth(self.evaluate(node.left)) or truth(self.evaluate(node.right))
        left, right = self.evaluate(node.left), self.evaluate(node.right)
        if node.op == "==":
            return left == right
        if node.op == "!=":
            return left != right
        if node.op in ("=~", "==~"):
            match = re.search if node.op == "=~" else re.fullmatch
            return match(_text(right), _text(left)) is not None
        try:
            return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[
                node.op
            ]
        except TypeError:
            raise GroovyError(
                f"cannot compare {_text(left)!r} {node.op} {_text(right)!r}", node.line
            ) from None

    def method(self, node: MethodCall) -> Any:
        if node.obj is None:
            raise GroovyError(f"function {node.name}() is not supported in this subset", node.line)
        obj = self.evaluate(node.obj)
        args = [self.evaluate(a) for a in node.args]
        if node.name == "getAt" and isinstance(obj, Mapping | list | str):
            try:
                return obj[args[0] if isinstance(obj, Mapping) else int(args[0])]
            except (KeyError, IndexError, ValueError):
                return None
        func = _METHODS.get(node.name)
        if func is None:
            raise GroovyError(
                f"method .{node.name}() is not supported (supported: "
                f"{', '.join(sorted(_METHODS))})",
                node.line,
            )
        if obj is None:
            raise GroovyError(f"cannot call .{node.name}() on null", node.line)
        try:
            return func(obj, *args)
        except (TypeError, ValueError, AttributeError) as exc:
            raise GroovyError(f".{node.name}(): {exc}", node.line) from None

    def interpolate(self, text: str, line: int) -> str:
        """A GString's value: ``${expr}`` and ``$name(.name)*`` replaced, ``\\$`` kept."""
        return interpolate(text, line, lambda expr: _text(self.evaluate(expr)))


_DOLLAR_NAME = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)")


def interpolate(text: str, line: int, render: Callable[[Expr], str]) -> str:
    out, i = [], 0
    while i < len(text):
        if text.startswith("\\$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            if depth:
                raise GroovyError("'${' without a closing '}'", line)
            out.append(render(_expression(text[i + 2 : j - 1], line)))
            i = j
        elif m := _DOLLAR_NAME.match(text, i):
            out.append(render(_expression(m.group(1), line)))
            i = m.end()
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _expression(source: str, line: int) -> Expr:
    try:
        return parse_expression(source)
    except JenkinsSyntaxError as exc:
        raise GroovyError(f"in '${{{source}}}': {exc}", line) from None
