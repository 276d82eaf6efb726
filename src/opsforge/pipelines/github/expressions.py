"""``${{ }}`` templates and ``if:`` conditions, compiled once when a workflow loads.

A value that is exactly one ``${{ expr }}`` keeps the expression's type (an array for a
matrix, a number for ``timeout-minutes``); text around or between expressions makes a
string. An ``if:`` may leave out ``${{ }}``; unless it calls a status function it means
``success() && (condition)``. Every syntax error names file:line and the job.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from opsforge.pipelines.errors import ExpressionError
from opsforge.pipelines.github.expr_eval import Scope, evaluate
from opsforge.pipelines.github.expr_functions import FunctionFailed
from opsforge.pipelines.github.expr_parser import (
    ALL_CONTEXTS,
    Call,
    Logical,
    Node,
    ParseError,
    context_names,
    parse,
    uses_status_function,
)
from opsforge.pipelines.github.expr_values import to_string, truthy

__all__ = ["Condition", "Template", "Where", "compile_condition", "compile_template"]


@dataclass(frozen=True, slots=True)
class Where:
    """Where a value came from, for error messages."""

    path: str | None = None
    line: int | None = None
    job: str | None = None

    def error(self, message: str) -> ExpressionError:
        return ExpressionError(message, path=self.path, line=self.line, job=self.job)


def _compile(text: str, where: Where, contexts: Collection[str]) -> Node:
    try:
        return parse(text, contexts)
    except ParseError as exc:
        raise where.error(
            f"expression syntax error: {exc} at column {exc.pos + 1} of '{text.strip()}'"
        ) from None


def _closing(text: str, start: int) -> int:
    """Offset of the ``}}`` closing an expression that starts at ``start`` (quotes aware)."""
    i, in_string = start, False
    while i < len(text):
        ch = text[i]
        if ch == "'":
            in_string = not in_string
        elif not in_string and text.startswith("}}", i):
            return i
        i += 1
    return -1


@dataclass(frozen=True)
class Template:
    """A string with ``${{ }}`` parts; ``parts`` alternate literal text and trees."""

    source: str
    parts: tuple[str | Node, ...]
    where: Where

    @property
    def contexts(self) -> frozenset[str]:
        """The contexts its expressions read."""
        return frozenset().union(*(context_names(p) for p in self.parts if not isinstance(p, str)))

    @property
    def is_literal(self) -> bool:
        return all(isinstance(part, str) for part in self.parts)

    def render(self, scope: Scope) -> Any:
        """The value: typed when the template is one bare expression, else a string."""
        try:
            if len(self.parts) == 1 and not isinstance(self.parts[0], str):
                return evaluate(self.parts[0], scope)
            return "".join(
                part if isinstance(part, str) else to_string(evaluate(part, scope))
                for part in self.parts
            )
        except FunctionFailed as exc:
            raise self.where.error(f"{exc} (in '{self.source}')") from None


def compile_template(
    text: str, where: Where = Where(), contexts: Collection[str] = ALL_CONTEXTS
) -> Template:
    parts: list[str | Node] = []
    i = 0
    stripped = text.strip()
    whole = stripped.startswith("${{") and _closing(stripped, 3) == len(stripped) - 2
    if whole:
        return Template(text, (_compile(stripped[3:-2], where, contexts),), where)
    while True:
        start = text.find("${{", i)
        if start < 0:
            if i < len(text):
                parts.append(text[i:])
            break
        if start > i:
            parts.append(text[i:start])
        end = _closing(text, start + 3)
        if end < 0:
            raise where.error(f"'${{{{' without a closing '}}}}' in '{text}'")
        parts.append(_compile(text[start + 3 : end], where, contexts))
        i = end + 2
    return Template(text, tuple(parts) or ("",), where)


@dataclass(frozen=True)
class Condition:
    """An ``if:``; ``node`` already includes the implicit ``success() &&``."""

    source: str
    node: Node | Template
    where: Where
    #: the condition calls success()/failure()/always()/cancelled() itself
    explicit_status: bool = False
    #: the contexts it reads
    contexts: frozenset[str] = frozenset()

    def holds(self, scope: Scope) -> bool:
        try:
            if isinstance(self.node, Template):
                return truthy(self.node.render(scope))
            return truthy(evaluate(self.node, scope))
        except FunctionFailed as exc:
            raise self.where.error(f"{exc} (in if: '{self.source}')") from None


def compile_condition(
    value: Any, where: Where = Where(), contexts: Collection[str] = ALL_CONTEXTS
) -> Condition:
    """Compile an ``if:`` value (a string, or a YAML bool/number)."""
    if isinstance(value, bool) or value is None:
        text = "true" if value else "false"
    else:
        text = to_string(value).strip()
    if not text:
        text = "success()"
    inner = text
    if text.startswith("${{") and _closing(text, 3) == len(text) - 2:
        inner = text[3:-2]
    elif "${{" in text:
        # GitHub renders such a value as a string, which is true unless empty
        template = compile_template(text, where, contexts)
        names = frozenset().union(
            *(context_names(p) for p in template.parts if not isinstance(p, str))
        )
        return Condition(text, template, where, False, names)
    node = _compile(inner, where, contexts)
    explicit = uses_status_function(node)
    names = context_names(node)
    if not explicit:
        node = Logical("&&", Call("success", ()), node)
    return Condition(text, node, where, explicit, names)
