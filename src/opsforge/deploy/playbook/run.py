"""A playbook as engine runs: each play is one plan (a step per host) run with the play's
``serial`` and ``max_fail_percentage``; the events of every play form one run."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from opsforge.connectors.base import Connector
from opsforge.connectors.pool import ConnectionPool
from opsforge.deploy.events import OperationResult, OpStatus
from opsforge.deploy.playbook.host_run import HostRun
from opsforge.deploy.playbook.model import Play, Playbook
from opsforge.deploy.playbook.state import HostState, PlayFacts, PlayRun, RunOptions
from opsforge.deploy.playbook.variables import VarSpace
from opsforge.deploy.playbook.walker import HostFailed
from opsforge.engine import (
    Event,
    Executor,
    HostOutcome,
    Plan,
    RunFinished,
    RunStarted,
    RunSummary,
    Step,
    StepContext,
    StepOutcome,
    new_run_id,
    run_host_plan,
    worst_status,
)
from opsforge.errors import InputError
from opsforge.inventory import Inventory
from opsforge.templating import TemplateEngine
from opsforge.types import HostSpec, HostStatus

__all__ = ["PlayStarted", "PlaybookRun", "run_playbook"]

logger = logging.getLogger("opsforge.playbook")


@dataclass(frozen=True, kw_only=True, slots=True)
class PlayStarted(Event):
    """A play begins on its hosts."""

    kind: ClassVar[str] = "play"

    index: int
    name: str
    hosts: tuple[str, ...]
    origin: str = ""


@dataclass(frozen=True)
class PlaybookRun:
    """Everything a playbook run needs besides connections."""

    playbook: Playbook
    engine: TemplateEngine
    options: RunOptions
    inventory: Inventory
    specs: Sequence[HostSpec]  # the hosts the command line selected, with its overrides
    serial: Sequence[int | str] | None = None  # --serial, when a play sets none
    max_fail_percentage: float | None = None


def _play_hosts(run: PlaybookRun, play: Play, allowed: Mapping[str, HostSpec]) -> list[str]:
    space = VarSpace(run.engine, [run.options.extra_vars, play.vars], play.origin)
    pattern = space.render(play.hosts, play.origin)
    if isinstance(pattern, list):
        pattern = ":".join(str(p) for p in pattern)
    if not isinstance(pattern, str) or not pattern.strip():
        raise InputError(f"hosts: expected a host pattern, got {pattern!r}", path=play.origin)
    return [h.name for h in run.inventory.select(pattern.strip()) if h.name in allowed]


def _serial(run: PlaybookRun, play: Play) -> Sequence[int | str] | None:
    value = play.keyword("serial")
    if value is None:
        return run.serial
    space = VarSpace(run.engine, [run.options.extra_vars, play.vars], play.origin)
    value = space.render(value)
    return value if isinstance(value, list) else [value]


def _max_fail(run: PlaybookRun, play: Play) -> float | None:
    if play.keyword("any_errors_fatal") is True:
        return 0.0
    value = play.keyword("max_fail_percentage")
    return float(value) if value is not None else run.max_fail_percentage


def _forwarder(
    run_id: str, subscribers: Sequence[Callable[[Event], None]]
) -> Callable[[Event], None]:
    def forward(event: Event) -> None:
        if isinstance(event, RunStarted | RunFinished):
            return
        event = dataclasses.replace(event, run_id=run_id)
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception:
                logger.warning("event subscriber %r failed", subscriber, exc_info=True)

    return forward


def _states(run: PlaybookRun) -> dict[str, HostState]:
    states = {}
    for spec in run.specs:
        host = run.inventory.hosts.get(spec.name)
        states[spec.name] = HostState(
            name=spec.name,
            spec=spec,
            groups=tuple(host.groups) if host is not None else ("all",),
            inventory_vars=dict(spec.vars),
            cache=PlayFacts(spec.name),
        )
    return states


def _connector(
    run: PlaybookRun, specs: Mapping[str, HostSpec], pool: ConnectionPool
) -> Callable[[str], Awaitable[Connector]]:
    """Connections for ``delegate_to``: a selected host as the command line made it, any
    other inventory host with its own connection vars; one pooled connection each."""

    async def connect(name: str) -> Connector:
        spec = specs.get(name)
        if spec is None:
            host = run.inventory.hosts.get(name)
            if host is None:
                raise InputError(f"delegate_to: {name!r} is not a host of the inventory")
            spec = host.spec()
        return await pool.get(spec)

    return connect


def _step(pr: PlayRun, state: HostState, spec: HostSpec, pool: ConnectionPool) -> Callable[
        [StepContext], Awaitable[StepOutcome]]:  # fmt: skip
    async def action(ctx: StepContext) -> StepOutcome:
        counts: Counter[str] = Counter()
        first_failure: list[OperationResult] = []

        def emit(event: OperationResult) -> None:
            counts[event.status] += 1
            if event.status == OpStatus.FAILED and not first_failure:
                first_failure.append(event)
            ctx.emit(dataclasses.replace(event, run_id=ctx.run_id))

        conn = await pool.get(spec)
        status = HostStatus.OK
        message = ""
        try:
            await HostRun(pr, state, conn, emit).run()
        except HostFailed as failed:
            state.failed = True
            status = HostStatus.FAILED
            where = first_failure[0] if first_failure else None
            name = where.name if where is not None else failed.failure.task.display_name
            message = f"{name}: {failed.failure.message}"[:500]
        if status is HostStatus.OK and (counts[OpStatus.CHANGED] or counts[OpStatus.WOULD_CHANGE]):
            status = HostStatus.CHANGED
        data = dict(counts, round_trips=state.round_trips)
        return StepOutcome(status=status, message=message, data=data)

    return action


async def run_playbook(
    run: PlaybookRun,
    pool: ConnectionPool,
    subscribers: Sequence[Callable[[Event], None]],
    executor_hook: Callable[[Executor], None] | None = None,
) -> tuple[RunSummary, dict[str, HostOutcome]]:
    """Run every play in order; one summary and one outcome per host for the whole run."""
    run_id = new_run_id()
    started = time.time()
    forward = _forwarder(run_id, subscribers)
    specs = {spec.name: spec for spec in run.specs}
    states = _states(run)
    position = run.inventory.host_position
    groups = {
        name: sorted(run.inventory.group_member_names(name), key=position)
        for name in run.inventory.groups
    }
    for subscriber in subscribers:
        try:
            subscriber(RunStarted(run_id=run_id, hosts=tuple(specs), steps=len(run.playbook.plays),
                                  forks=run.options.forks, serial=None))  # fmt: skip
        except Exception:
            logger.warning("event subscriber %r failed", subscriber, exc_info=True)
    statuses: dict[str, list[HostStatus]] = {name: [] for name in specs}
    step_status: dict[str, HostStatus] = {}
    outcomes: dict[str, HostOutcome] = {}
    interrupted = False
    for index, play in enumerate(run.playbook.plays):
        hosts = [h for h in _play_hosts(run, play, specs) if not states[h].failed]
        forward(PlayStarted(run_id=run_id, index=index, name=play.name, hosts=tuple(hosts),
                            origin=play.origin))  # fmt: skip
        if not hosts:
            continue
        pr = PlayRun(play=play, engine=run.engine, options=run.options, hosts=hosts,
                     states=states, groups=groups, playbook_dir=play.base_dir,
                     connect=_connector(run, specs, pool))  # fmt: skip
        plan = Plan(tuple(Step(id=f"{host}#{index + 1}", host=host, description=play.name,
                               action=_step(pr, states[host], specs[host], pool))
                          for host in hosts))  # fmt: skip
        summary, play_outcomes = await run_host_plan(
            plan,
            forks=run.options.forks,
            serial=_serial(run, play),
            max_fail_percentage=_max_fail(run, play),
            subscribers=[forward],
            executor_hook=executor_hook,
        )
        step_status.update(summary.step_status)
        for host, outcome in play_outcomes.items():
            statuses[host].append(outcome.status)
            if not outcome.status.is_success:
                states[host].failed = True
            previous = outcomes.get(host)
            data = dict(outcome.data) if isinstance(outcome.data, dict) else {}
            data["round_trips"] = states[host].round_trips
            if previous is None or outcome.status is not HostStatus.SKIPPED:
                message = outcome.message or (previous.message if previous else "")
                outcomes[host] = HostOutcome(host, worst_status(statuses[host]), outcome.result,
                                             message, data)  # fmt: skip
        if summary.interrupted:
            interrupted = True
            break
        if summary.hosts_with(HostStatus.SKIPPED) and _max_fail(run, play) is not None:
            break  # the rollout stopped: no later play runs
    host_status = {name: worst_status(statuses[name]) for name in specs}
    for name, status in host_status.items():
        if name not in outcomes:
            outcomes[name] = HostOutcome(name, status, None, "no play ran on this host",
                                         {"round_trips": states[name].round_trips})  # fmt: skip
    summary = RunSummary(run_id=run_id, started=started, ended=time.time(),
                         host_status=host_status, step_status=step_status,
                         interrupted=interrupted)  # fmt: skip
    finished = RunFinished(run_id=run_id, summary=summary)
    for subscriber in subscribers:
        try:
            subscriber(finished)
        except Exception:
            logger.warning("event subscriber %r failed", subscriber, exc_info=True)
    return summary, outcomes
