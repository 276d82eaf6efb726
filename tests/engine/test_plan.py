"""The plan is validated, immutable data: printable without running anything."""

from __future__ import annotations

import dataclasses
import json

import pytest

from opsforge.engine import Plan, Step
from opsforge.errors import PlanError

from .actions import sleeper

noop = sleeper()


def step(sid: str, host: str = "h1", *deps: str) -> Step:
    return Step(sid, host, noop, deps=deps)


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(PlanError, match="duplicate step id 'a'"):
        Plan.build([step("a"), step("a", "h2")])


def test_unknown_dependency_is_rejected() -> None:
    with pytest.raises(PlanError, match="step 'b' depends on unknown step 'zz'"):
        Plan.build([step("a"), step("b", "h1", "zz")])


def test_cycle_names_every_step_in_it() -> None:
    with pytest.raises(PlanError, match="dependency cycle") as info:
        Plan.build([step("x"), step("a", "h1", "c"), step("b", "h1", "a"), step("c", "h1", "b")])
    message = str(info.value)
    assert "a -> b -> c -> a" in message
    assert "x" not in message.split(":", 1)[1].split("(")[0]


def test_self_dependency_is_a_cycle() -> None:
    with pytest.raises(PlanError, match="dependency cycle: a -> a"):
        Plan.build([step("a", "h1", "a")])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"retries": -1}, "retries must be >= 0"),
        ({"timeout": 0}, "timeout must be > 0"),
        ({"retry_delay": -1.0}, "retry_delay must be >= 0"),
    ],
)
def test_bad_step_settings_are_plan_errors(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(PlanError, match=match):
        Plan.build([Step("a", "h1", noop, **kwargs)])  # type: ignore[arg-type]


def test_empty_id_or_host_is_rejected() -> None:
    with pytest.raises(PlanError, match="empty id"):
        Plan.build([Step("", "h1", noop)])
    with pytest.raises(PlanError, match="empty host"):
        Plan.build([Step("a", "", noop)])


def test_topological_order_is_stable_and_respects_deps() -> None:
    plan = Plan.build(
        [step("d", "h2", "b", "c"), step("a"), step("c", "h2", "a"), step("b", "h1", "a")]
    )
    assert [s.id for s in plan.topological_order()] == ["a", "c", "b", "d"]


def test_hosts_in_order_of_first_appearance() -> None:
    plan = Plan.build([step("a", "web2"), step("b", "web1"), step("c", "web2"), step("d", "db")])
    assert plan.hosts == ("web2", "web1", "db")
    assert [s.id for s in plan.steps_for("web2")] == ["a", "c"]
    assert plan.dependents("a") == ()


def test_to_dict_is_json_and_runs_nothing() -> None:
    calls: list[str] = []

    async def action(ctx: object) -> None:
        calls.append("ran")

    plan = Plan.build(
        [
            Step("b", "h1", action, deps=("a",), timeout=5, retries=2, tags=frozenset({"y", "x"})),
            Step("a", "h1", action, description="first"),
        ]
    )
    data = json.loads(json.dumps(plan.to_dict()))
    assert data["hosts"] == ["h1"]
    assert [s["id"] for s in data["steps"]] == ["a", "b"]
    assert data["steps"][1]["tags"] == ["x", "y"]
    assert data["steps"][1]["deps"] == ["a"]
    assert data["steps"][0]["action"].endswith("action")
    assert calls == []


def test_plan_and_steps_are_frozen() -> None:
    plan = Plan.build([step("a")])
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.steps = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.steps[0].id = "b"  # type: ignore[misc]
    assert "a" in plan
    assert len(plan) == 1
    assert plan["a"].host == "h1"
