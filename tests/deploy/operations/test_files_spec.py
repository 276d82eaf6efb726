"""Spec tests of the file operations: one YAML case per behaviour (``files/<op>.yml``).

A case gives the function's ``args``, what the host has (``files``: path -> attributes,
or null for nothing there; ``tree_drift``, ``digests``, ``archive`` for the other
facts), controller files (``local``), host ``vars`` and ``secrets``; and expects either
``commands`` (each action as shown; a leading ``~`` makes it a regular expression),
optionally ``diff`` ([label, before, after] items) and ``writes`` (path -> new
content), ``after`` (path -> fields of the predicted FileState); or ``noop`` (a
substring of the reason); or ``error`` (a substring of the message).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsforge.deploy.context import HostContext
from opsforge.deploy.facts.base import FactCache
from opsforge.deploy.facts.files import FileState
from opsforge.deploy.operation import Change, Operation
from opsforge.deploy.operations import files
from opsforge.errors import OpsforgeError
from opsforge.types import Secret

from .conftest import case_facts, plan_env, write_local, written

SPECS = Path(__file__).parent / "files"


class SpecLoader(yaml.SafeLoader):
    """YAML with ``!secret value`` for a :class:`Secret`."""


SpecLoader.add_constructor(
    "!secret",
    lambda loader, node: Secret(loader.construct_scalar(node)),  # type: ignore[arg-type]
)


def _cases() -> list[Any]:
    params = []
    for path in sorted(SPECS.glob("*.yml")):
        for name, case in yaml.load(path.read_text(), SpecLoader).items():
            params.append(pytest.param(path.stem, case, id=f"{path.stem}: {name}"))
    return params


def _matches(expected: str, actual: str) -> bool:
    if expected.startswith("~"):
        return re.fullmatch(expected[1:], actual, re.DOTALL) is not None
    return expected == actual


@pytest.mark.parametrize(("function", "case"), _cases())
def test_spec(function: str, case: dict[str, Any], tmp_path: Path) -> None:
    unknown = set(case) - {
        "args", "files", "tree_drift", "digests", "archive", "local", "vars", "secrets",
        "commands", "diff", "writes", "after", "noop", "error",
    }  # fmt: skip
    assert not unknown, f"unknown case keys {unknown}"
    write_local(tmp_path, case.get("local") or {})
    env = plan_env(tmp_path, case.get("vars"), tuple(Secret(s) for s in case.get("secrets") or ()))
    host = HostContext(name="web1", vars={}, groups=(), _cache=FactCache("web1"))

    def declare_and_plan() -> tuple[Operation, Change]:
        op = getattr(files, function)(host, **case.get("args", {})).op
        return op, op.plan(case_facts(case, op.facts()), env)

    if "error" in case:
        with pytest.raises(OpsforgeError, match=re.escape(case["error"])):
            declare_and_plan()
        return
    op, change = declare_and_plan()
    assert op.plan(case_facts(case, op.facts()), env) == change, "plan is not deterministic"

    if "noop" in case:
        assert change.is_noop, f"expected a no-op, got {[a.shown() for a in change.actions]}"
        assert case["noop"] in change.reason
        assert not change.diff
        assert not change.facts_after
        return
    shown = [a.shown() for a in change.actions]
    expected = case["commands"]
    assert len(shown) == len(expected), shown
    assert all(map(_matches, expected, shown)), shown
    assert change.reports_changed
    if "diff" in case:
        got = [[d.label, d.before, d.after] for d in change.diff]
        assert got == case["diff"]
    if "writes" in case:
        assert {p: c.decode() for p, c in written(change).items()} == case["writes"]
    for path, fields in (case.get("after") or {}).items():
        after = dict(change.facts_after)[FileState(path)]
        if fields is None:
            assert after is None
            continue
        for key, value in fields.items():
            actual = getattr(after, key)
            assert (f"{actual:04o}" if key == "mode" else actual) == value, key
