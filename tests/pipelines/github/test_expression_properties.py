"""Properties of the expression language over generated input: any text either parses
or fails with a ParseError (never another exception); equality is symmetric; ``!=`` is
the negation of ``==``; values survive toJSON/fromJSON."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from opsforge.pipelines.github import Scope, compile_template
from opsforge.pipelines.github.expr_parser import ParseError, parse
from opsforge.pipelines.github.expr_values import loose_equal

ALPHABET = st.sampled_from(
    [*"abcxyz019 .*[]()!<>=&|,'\"-+_eE", "github", "env", "contains(", "null"]
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(ALPHABET, max_size=30).map("".join))
def test_any_text_parses_or_is_a_parse_error(text: str) -> None:
    position = 0
    try:
        parse(text)
    except ParseError as exc:
        position = exc.pos
    assert 0 <= position <= len(text)


@settings(max_examples=300, deadline=None)
@given(scalars, scalars)
def test_equality_is_symmetric_and_not_equal_is_its_negation(a: Any, b: Any) -> None:
    assert loose_equal(a, b) == loose_equal(b, a)
    scope = Scope({"env": {"a": a, "b": b}})
    eq = compile_template("${{ env.a == env.b }}").render(scope)
    ne = compile_template("${{ env.a != env.b }}").render(scope)
    assert eq is (not ne)


@settings(max_examples=200, deadline=None)
@given(values)
def test_to_json_and_from_json_round_trip(value: Any) -> None:
    scope = Scope({"env": {"v": value}})
    text = compile_template("${{ toJSON(env.v) }}").render(scope)
    if _has_non_finite(value):
        return  # JSON has no NaN/Infinity; GitHub's own output is not JSON either
    back = compile_template("${{ fromJSON(env.j) }}").render(Scope({"env": {"j": text}}))
    assert back == _normalised(value)


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, list):
        return any(_has_non_finite(v) for v in value)
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    return False


def _normalised(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalised(v) for k, v in value.items()}
    return value
