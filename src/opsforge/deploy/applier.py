"""Apply a host's plan: every change in as few round trips as correctness allows.

Consecutive operations with the same ``become`` go into one script (one ``sh -s``
round trip); each operation is a section with its own exit status, and the
script stops at the first failure unless the operation ignores errors. The
common case — one become setting for the whole deploy — is one round trip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

from opsforge.connectors.base import Connector
from opsforge.deploy.commands import mask
from opsforge.deploy.events import OpStatus
from opsforge.deploy.planner import HostPlan, PlannedOp
from opsforge.deploy.script import Section, build_script, new_token, parse_output
from opsforge.types import Become

__all__ = ["OpOutcome", "apply_host", "check_host"]


@dataclass(frozen=True, slots=True)
class OpOutcome:
    planned: PlannedOp
    status: str
    output: str = ""
    exit_code: int | None = None


def check_host(plan: HostPlan) -> list[OpOutcome]:
    """Check mode: what would happen, without touching the host."""
    outcomes = []
    for planned in plan.ops:
        if planned.change is None:
            outcomes.append(OpOutcome(planned, OpStatus.SKIPPED))
        elif planned.change.reports_changed:
            outcomes.append(OpOutcome(planned, OpStatus.WOULD_CHANGE))
        else:
            outcomes.append(OpOutcome(planned, OpStatus.OK))
    return outcomes


def _become_key(planned: PlannedOp) -> Become | None:
    return planned.declared.become


async def apply_host(
    conn: Connector,
    plan: HostPlan,
    *,
    on_round_trip: Callable[[], None] | None = None,
) -> list[OpOutcome]:
    """Run every planned change; return one outcome per operation, in plan order."""
    outcomes: dict[int, OpOutcome] = {}
    runnable = [p for p in plan.ops if p.change is not None and not p.change.is_noop]
    failed = False
    for become, group in groupby(runnable, key=_become_key):
        batch = list(group)
        if failed:
            break
        token = new_token()
        sections = [
            Section(p.change.actions, may_fail=p.declared.ignore_errors)  # type: ignore[union-attr]
            for p in batch
        ]
        result = await conn.run("sh -s", stdin=build_script(sections, token), become=become)
        if on_round_trip is not None:
            on_round_trip()
        parsed = parse_output(result.stdout, token, len(batch))
        for planned, section in zip(batch, parsed, strict=True):
            output = mask(section.output, plan.secrets)
            if section.exit_code is None:
                status = OpStatus.SKIPPED if failed else OpStatus.FAILED
                if not failed and result.stderr:
                    output = (output + "\n" + mask(result.stderr, plan.secrets)).strip()
                failed = True
            elif section.exit_code != 0:
                if planned.declared.ignore_errors:
                    status = OpStatus.IGNORED
                else:
                    status, failed = OpStatus.FAILED, True
            else:
                changed = planned.change is not None and planned.change.changed
                status = OpStatus.CHANGED if changed else OpStatus.OK
            outcomes[planned.index] = OpOutcome(planned, status, output, section.exit_code)
    result_list = []
    for planned in plan.ops:
        if planned.index in outcomes:
            result_list.append(outcomes[planned.index])
        elif planned.change is None:
            result_list.append(OpOutcome(planned, OpStatus.SKIPPED))
        elif planned.change.is_noop:
            result_list.append(OpOutcome(planned, OpStatus.OK))
        else:  # after a failure: not run
            result_list.append(OpOutcome(planned, OpStatus.SKIPPED, "not run: an earlier failure"))
    return result_list
