"""Spec tests of the system operations: one YAML case per behaviour, in
``<module>/<function>.yml`` for the modules packages, services, users, system and git.

A case gives the function's ``args`` and what the host has (``facts``, described in
:mod:`.system_facts`), and expects either ``commands`` (each action as shown; a
leading ``~`` makes it a regular expression), optionally ``diff`` ([label, before,
after] items), ``changed`` (default true: the change reports *changed*), ``after``
(fact key -> the predicted value, a subset) and ``hidden`` (texts no shown command
or diff may contain: secrets); or ``noop`` (a substring of the reason); or ``error``
(a substring of the message; ``error_type``: InputError at declaration, PlanError
when planning).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsforge.deploy.context import HostContext
from opsforge.deploy.facts.base import FactCache
from opsforge.deploy.operation import Change, Operation
from opsforge.errors import InputError, OpsforgeError, PlanError
from opsforge.types import Secret

from .conftest import plan_env
from .system_facts import fact_key, plain, subset, system_case_facts

HERE = Path(__file__).parent
MODULES = ("packages", "services", "users", "system", "git")
KEYS = {"args", "facts", "commands", "diff", "changed", "after", "hidden", "noop", "error"}
KEYS |= {"error_type"}


class SpecLoader(yaml.SafeLoader):
    """YAML with ``!secret value`` for a :class:`Secret`."""


SpecLoader.add_constructor(
    "!secret",
    lambda loader, node: Secret(loader.construct_scalar(node)),  # type: ignore[arg-type]
)


def _cases() -> list[Any]:
    params = []
    for module in MODULES:
        for path in sorted((HERE / module).glob("*.yml")):
            for name, case in yaml.load(path.read_text(), SpecLoader).items():
                params.append(
                    pytest.param(module, path.stem, case, id=f"{module}.{path.stem}: {name}")
                )
    return params


def _matches(expected: str, actual: str) -> bool:
    if expected.startswith("~"):
        return re.fullmatch(expected[1:], actual, re.DOTALL) is not None
    return expected == actual


@pytest.mark.parametrize(("module", "function", "case"), _cases())
def test_spec(module: str, function: str, case: dict[str, Any], tmp_path: Path) -> None:
    unknown = set(case) - KEYS
    assert not unknown, f"unknown case keys {unknown}"
    env = plan_env(tmp_path)
    host = HostContext(name="web1", vars={}, groups=(), _cache=FactCache("web1"))
    func = getattr(importlib.import_module(f"opsforge.deploy.operations.{module}"), function)

    def declare() -> Operation:
        return func(host, **case.get("args", {})).op  # type: ignore[no-any-return]

    def plan(op: Operation) -> Change:
        return op.plan(system_case_facts(case, op.facts()), env)

    if "error" in case:
        kind = {"InputError": InputError, "PlanError": PlanError}.get(
            case.get("error_type", ""), OpsforgeError
        )
        with pytest.raises(kind, match=re.escape(case["error"])) as caught:
            plan(declare())
        if kind is InputError:
            assert not isinstance(caught.value, PlanError), "expected an error at declaration"
        return
    op = declare()
    change = plan(op)
    assert plan(op) == change, "plan is not deterministic"
    assert op.describe()

    if "noop" in case:
        assert change.is_noop, f"expected a no-op, got {[a.shown() for a in change.actions]}"
        assert case["noop"] in change.reason, change.reason
        assert not change.diff
        assert not change.facts_after
        return
    shown = [a.shown() for a in change.actions]
    expected = case["commands"]
    assert len(shown) == len(expected), shown
    for want, got in zip(expected, shown, strict=True):
        assert _matches(want, got), f"expected {want!r}\n     got {got!r}"
    assert change.changed is case.get("changed", True)
    if "diff" in case:
        got_diff = [[d.label, d.before, d.after] for d in change.diff]
        assert got_diff == case["diff"]
    for text in case.get("hidden", ()):
        for line in shown + [f"{d.label} {d.before} {d.after}" for d in change.diff]:
            assert text not in line, f"{text!r} shows in {line!r}"
    predicted = {fact_key(fact): value for fact, value in change.facts_after}
    for key, value in (case.get("after") or {}).items():
        assert key in predicted, f"no predicted {key} (have {sorted(predicted)})"
        subset(value, plain(predicted[key]), key)
