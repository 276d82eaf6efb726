"""The filter, test and lookup tables in cases/*.yml, run through TemplateEngine.evaluate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsforge.errors import TemplateError
from opsforge.templating import TemplateEngine

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"

VARIABLES: dict[str, Any] = {
    "present": 1,
    "name": "ann",
    "nested": {"a": 1},
    "multiline": "Multi\nLine",
    "here": str(HERE),
    "users": [{"name": "ann", "admin": True}, {"name": "bob", "admin": False}],
    "ok_result": {"changed": True, "failed": False, "rc": 0},
    "failed_result": {"changed": False, "failed": True, "rc": 1},
    "skipped_result": {"changed": False, "skipped": True},
    "loop_result": {"results": [{"changed": False}, {"changed": True}], "changed": False},
}


def _load(name: str) -> list[Any]:
    cases = yaml.safe_load((HERE / "cases" / name).read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["expr"][:70]) for case in cases]


def _plain(value: Any) -> Any:
    """Tuples as lists, as they would be in JSON."""
    return json.loads(json.dumps(value))


@pytest.fixture(scope="module")
def engine() -> TemplateEngine:
    return TemplateEngine([FIXTURES])


def _check(engine: TemplateEngine, case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(TemplateError) as info:
            engine.evaluate(case["expr"], VARIABLES, origin="cases.yml:1")
        assert case["error"] in str(info.value)
        assert str(info.value).startswith("cases.yml:1: ")
    else:
        assert (
            _plain(engine.evaluate(case["expr"], VARIABLES, origin="cases.yml:1")) == case["expect"]
        )


@pytest.mark.parametrize("case", _load("filters.yml"))
def test_filter(engine: TemplateEngine, case: dict[str, Any]) -> None:
    _check(engine, case)


@pytest.mark.parametrize("case", _load("tests.yml"))
def test_test(engine: TemplateEngine, case: dict[str, Any]) -> None:
    _check(engine, case)


@pytest.mark.parametrize("case", _load("lookups.yml"))
def test_lookup(
    engine: TemplateEngine, case: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSFORGE_TEST_VAR", "value")
    monkeypatch.delenv("OPSFORGE_NO_SUCH_VAR", raising=False)
    _check(engine, case)
