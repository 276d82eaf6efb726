"""The ${{ }} language, table-driven from YAML cases (expressions, templates, if:)."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsforge.pipelines.errors import ExpressionError
from opsforge.pipelines.github import Scope, Where, compile_condition, compile_template
from opsforge.pipelines.github.expr_parser import ALL_CONTEXTS

HERE = Path(__file__).parent


def _cases(name: str) -> list[Any]:
    data = yaml.safe_load((HERE / name).read_text())
    if isinstance(data, dict):
        return [
            pytest.param(case, id=f"{group}-{i}")
            for group, cases in data.items()
            for i, case in enumerate(cases)
        ]
    return [pytest.param(case, id=str(i)) for i, case in enumerate(data)]


def _scope(case: dict[str, Any], tmp: Path | None = None) -> Scope:
    return Scope(case.get("contexts", {}), tmp or Path(), case.get("status", "success"))


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    if isinstance(want, bool) or isinstance(got, bool):
        return got is want
    return bool(got == want)


@pytest.mark.parametrize("case", _cases("expression_cases.yaml"))
def test_expression(case: dict[str, Any]) -> None:
    where = Where("wf.yml", 7, "build")
    allowed = case.get("contexts_allowed", ALL_CONTEXTS)
    if "error" in case:
        with pytest.raises(ExpressionError) as info:
            compile_template("${{ " + case["expr"] + " }}", where, allowed).render(_scope(case))
        assert case["error"] in str(info.value)
        assert str(info.value).startswith("wf.yml:7: job 'build': ")
        return
    got = compile_template("${{ " + case["expr"] + " }}", where, allowed).render(_scope(case))
    assert _same(got, case["value"]), f"{case['expr']} -> {got!r}"


@pytest.mark.parametrize("case", _cases("template_cases.yaml"))
def test_template(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(ExpressionError, match=r"wf\.yml:3") as info:
            compile_template(case["text"], Where("wf.yml", 3, "j")).render(_scope(case))
        assert case["error"] in str(info.value)
        return
    assert compile_template(case["text"]).render(_scope(case)) == case["value"]


@pytest.mark.parametrize("case", _cases("condition_cases.yaml"))
def test_condition(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(ExpressionError) as info:
            compile_condition(case["if"], Where("wf.yml", 9, "deploy"))
        assert case["error"] in str(info.value)
        assert str(info.value).startswith("wf.yml:9: job 'deploy': ")
        return
    assert compile_condition(case["if"]).holds(_scope(case)) is case["holds"]


def test_hash_files_hashes_each_file_hash_in_path_order(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "req.txt").write_text("one\n")
    (tmp_path / "b.txt").write_text("two\n")
    (tmp_path / "skip.txt").write_text("three\n")
    want = hashlib.sha256(
        hashlib.sha256(b"one\n").digest() + hashlib.sha256(b"two\n").digest()
    ).hexdigest()
    scope = Scope({}, tmp_path)
    got = compile_template("${{ hashFiles('**/*.txt', '!skip.txt') }}").render(scope)
    assert got == want
    assert compile_template("${{ hashFiles('nothing/*') }}").render(scope) == ""
    (tmp_path / "b.txt").write_text("changed\n")
    assert compile_template("${{ hashFiles('**/*.txt', '!skip.txt') }}").render(scope) != want


def test_unterminated_string_in_a_condition_names_the_column() -> None:
    with pytest.raises(ExpressionError, match=r"unterminated string literal at column 15"):
        compile_condition("github.ref == 'main", Where("wf.yml", 2, "j"))
