"""A deploy as an engine plan: one step per host that reads, plans and (unless check) applies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from opsforge.connectors.pool import ConnectionPool
from opsforge.deploy.applier import OpOutcome, apply_host, check_host
from opsforge.deploy.events import OperationResult, OpStatus
from opsforge.deploy.facts.base import FactCache
from opsforge.deploy.planner import DeployFunc, DeploySettings, HostPlan, plan_host
from opsforge.engine import Plan, Step, StepContext, StepOutcome
from opsforge.types import HostSpec, HostStatus, Secret

__all__ = ["DeployRun", "build_plan"]


@dataclass(frozen=True)
class DeployRun:
    """Everything one ``apply`` needs besides the hosts."""

    deploy: DeployFunc
    settings: DeploySettings
    check: bool = False
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    secrets: tuple[Secret, ...] = ()


def _emit(ctx: StepContext, plan: HostPlan, outcomes: Sequence[OpOutcome]) -> None:
    for outcome in outcomes:
        planned = outcome.planned
        change = planned.change
        ctx.emit(
            OperationResult(
                run_id=ctx.run_id,
                host=plan.host,
                index=planned.index,
                name=planned.declared.name,
                op=planned.declared.op.kind,
                status=outcome.status,
                diff=change.diff if change is not None else (),
                commands=tuple(a.shown() for a in change.actions) if change is not None else (),
                reason=planned.skip_reason or (change.reason if change is not None else ""),
                output=outcome.output,
                exit_code=outcome.exit_code,
                origin=planned.declared.origin,
                handler=planned.declared.handler,
            )
        )


def _outcome(outcomes: Sequence[OpOutcome], round_trips: int) -> StepOutcome:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    failed = counts.get(OpStatus.FAILED, 0)
    changed = counts.get(OpStatus.CHANGED, 0) + counts.get(OpStatus.WOULD_CHANGE, 0)
    if failed:
        status = HostStatus.FAILED
        first = next(o for o in outcomes if o.status == OpStatus.FAILED)
        message = f"{first.planned.declared.name}: {first.output.strip()[-300:]}"
    else:
        status = HostStatus.CHANGED if changed else HostStatus.OK
        message = ""
    data = dict(counts, round_trips=round_trips)
    return StepOutcome(status=status, message=message, data=data)


def build_plan(specs: Sequence[HostSpec], pool: ConnectionPool, run: DeployRun) -> Plan:
    """One engine step per host."""

    def make_action(spec: HostSpec):  # type: ignore[no-untyped-def]
        async def action(ctx: StepContext) -> StepOutcome:
            conn = await pool.get(spec)
            cache = FactCache(spec.name)
            plan = await plan_host(
                conn,
                spec,
                run.deploy,
                run.settings,
                cache,
                groups=run.groups.get(spec.name, ()),
                secrets=run.secrets,
            )
            round_trips = cache.round_trips
            if run.check:
                outcomes = check_host(plan)
            else:
                trips = [0]

                def count() -> None:
                    trips[0] += 1

                outcomes = await apply_host(conn, plan, on_round_trip=count)
                round_trips += trips[0]
            _emit(ctx, plan, outcomes)
            return _outcome(outcomes, round_trips)

        return action

    return Plan(
        steps=tuple(
            Step(id=spec.name, host=spec.name, action=make_action(spec), description="apply")
            for spec in specs
        )
    )
