"""``when { }`` of a declarative stage, decided at load time: ``branch``, ``tag``,
``buildingTag``, ``changeRequest`` (never, locally), ``environment``, ``expression``,
``not``, ``allOf``, ``anyOf``; ``beforeAgent``/``beforeInput``/``beforeOptions`` change
nothing here. Each answer comes with the reason in words, for ``pipeline explain``."""

from __future__ import annotations

import fnmatch
import re

from opsforge.pipelines.jenkins.syntax import Call, Script, Stmt
from opsforge.pipelines.jenkins.values import Env, GroovyError, truth

__all__ = ["ConditionError", "when_holds"]


class ConditionError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def when_holds(call: Call, env: Env) -> tuple[bool, str]:
    """Whether a stage's ``when { }`` holds, and the reason in words."""
    conditions = [
        s
        for s in call.block or ()
        if not (isinstance(s, Call) and s.name in ("beforeAgent", "beforeInput", "beforeOptions"))
    ]
    results = [_condition(c, env) for c in conditions]
    failed = next((why for ok, why in results if not ok), None)
    if failed:
        return False, failed
    return True, "; ".join(why for _, why in results)


def _condition(stmt: Stmt, env: Env) -> tuple[bool, str]:
    if not isinstance(stmt, Call):
        raise ConditionError(
            "when { } holds conditions (branch, environment, expression, ...)", stmt.line
        )
    named = dict(stmt.named)
    try:
        if stmt.name == "branch" or stmt.name == "tag":
            current = (
                env.env.get("BRANCH_NAME", "")
                if stmt.name == "branch"
                else (env.env.get("TAG_NAME", ""))
            )
            target = named.get("pattern", stmt.args[0] if stmt.args else None)
            if target is None:
                raise ConditionError(f"when {stmt.name} needs a pattern", stmt.line)
            pattern = str(env.evaluate(target))
            comparator = str(env.evaluate(named["comparator"])) if "comparator" in named else "GLOB"
            ok = bool(current) and _compare(current, pattern, comparator)
            return ok, f"when {stmt.name} {pattern!r} ({stmt.name} is {current or 'none'!r})"
        if stmt.name == "buildingTag":
            return "TAG_NAME" in env.env, "when buildingTag()"
        if stmt.name == "changeRequest":
            return False, "when changeRequest(): a local run is no change request"
        if stmt.name == "environment":
            key = str(env.evaluate(named["name"]))
            want = str(env.evaluate(named["value"]))
            got = env.env.get(key)
            return got == want, f"when environment {key} == {want!r} ({key} is {got!r})"
        if stmt.name == "expression":
            exprs = [s.expr for s in stmt.block or () if isinstance(s, Script) and s.expr]
            if not exprs:
                raise ConditionError("expression { } needs a Groovy expression", stmt.line)
            value = env.evaluate(exprs[-1])
            return truth(value), f"when expression (line {stmt.line}) is {truth(value)}"
        if stmt.name in ("not", "allOf", "anyOf"):
            inner = [_condition(s, env) for s in stmt.block or ()]
            if stmt.name == "not":
                ok = not all(i[0] for i in inner)
            elif stmt.name == "allOf":
                ok = all(i[0] for i in inner)
            else:
                ok = any(i[0] for i in inner)
            return ok, f"when {stmt.name} {{ {'; '.join(w for _, w in inner)} }}"
    except (GroovyError, KeyError) as exc:
        line = exc.line if isinstance(exc, GroovyError) else stmt.line
        raise ConditionError(f"when {stmt.name}: {exc}", line) from None
    raise ConditionError(
        f"when condition {stmt.name!r} is not supported (branch, tag, "
        "buildingTag, environment, expression, not, allOf, anyOf)",
        stmt.line,
    )


def _compare(value: str, pattern: str, comparator: str) -> bool:
    if comparator == "REGEXP":
        return re.fullmatch(pattern, value) is not None
    if comparator == "EQUALS":
        return value == pattern
    return fnmatch.fnmatchcase(value, pattern)
