"""Read and plan for one host: evaluate the deploy, gather facts once, plan every operation.

Round trips: the system fact only if the deploy reads ``host.facts`` (then the deploy
is evaluated again), and one for every fact the operations need — read with the become
of the operations (see :func:`fact_groups`). Planning itself touches nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opsforge.connectors.base import Connector
from opsforge.deploy.context import Declared, FactsNeeded, HostContext
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.system import System
from opsforge.deploy.operation import Change, PlanEnv, TemplateRenderer
from opsforge.errors import InputError, OpsforgeError, PlanError
from opsforge.types import Become, HostSpec, Secret

__all__ = [
    "DeployFunc",
    "DeploySettings",
    "HostPlan",
    "PlannedOp",
    "fact_groups",
    "gather_facts",
    "plan_host",
]

#: A Python deploy: a function that receives the host context and declares operations.
DeployFunc = Callable[[HostContext], Any]


@dataclass(frozen=True)
class DeploySettings:
    base_dir: str
    templates: TemplateRenderer
    tags: frozenset[str] = frozenset()
    skip_tags: frozenset[str] = frozenset()
    become: Become | None = None
    origin: str = ""  # the deploy file, for errors


@dataclass(frozen=True)
class PlannedOp:
    index: int
    declared: Declared
    change: Change | None  # None: not planned (skipped by tags, or an un-notified handler)
    skip_reason: str = ""


@dataclass(frozen=True)
class HostPlan:
    host: str
    ops: tuple[PlannedOp, ...]
    fact_round_trips: int = 0
    secrets: tuple[Secret, ...] = field(default=())

    @property
    def to_change(self) -> list[PlannedOp]:
        return [p for p in self.ops if p.change is not None and p.change.reports_changed]


def _selected(declared: Declared, settings: DeploySettings) -> str:
    """'' when the operation runs under --tags/--skip-tags, else why not."""
    tags = declared.tags
    if settings.skip_tags and tags & settings.skip_tags and "always" not in tags:
        return f"skipped by --skip-tags ({', '.join(sorted(tags & settings.skip_tags))})"
    if settings.tags and not (tags & settings.tags or "always" in tags):
        return "not selected by --tags"
    return ""


def _evaluate(ctx: HostContext, deploy: DeployFunc, settings: DeploySettings) -> None:
    try:
        deploy(ctx)
        ctx.declare_handlers()
    except InputError as exc:
        if exc.path is None:  # a bad argument: point at the user's line that passed it
            located = user_code_error(exc, settings.origin, ctx.name)
            _locate(exc, f"{located.path}:{located.line}" if located.line else "", ctx.name)
        raise
    except (FactsNeeded, OpsforgeError):
        raise
    except Exception as exc:
        raise user_code_error(exc, settings.origin, ctx.name) from None


def _locate(exc: InputError, origin: str, host: str) -> None:
    """Give an error without a location the ``file:line`` of the declaration."""
    file, _, line = origin.rpartition(":")
    if file and line.isdigit():
        exc.path, exc.line = file, int(line)
    exc.host = exc.host or host


def user_code_error(exc: BaseException, fallback: str, host: str) -> PlanError:
    """A PlanError naming the innermost frame of the user's file (error boundary)."""
    tb = exc.__traceback__
    where = fallback
    path = fallback.rsplit(":", 1)[0] if fallback else ""
    while tb is not None:
        if path and tb.tb_frame.f_code.co_filename == path:
            where = f"{path}:{tb.tb_lineno}"
        tb = tb.tb_next
    file, _, line = where.rpartition(":")
    return PlanError(
        f"{type(exc).__name__}: {exc}",
        path=file or where or None,
        line=int(line) if line.isdigit() else None,
        host=host,
    )


def _context(
    spec: HostSpec, groups: tuple[str, ...], cache: FactCache, become: Become | None
) -> HostContext:
    return HostContext(
        name=spec.name,
        vars=spec.vars,
        groups=groups,
        _cache=cache,
        default_become=become,
    )


async def plan_host(
    conn: Connector,
    spec: HostSpec,
    deploy: DeployFunc,
    settings: DeploySettings,
    cache: FactCache,
    *,
    groups: tuple[str, ...] = (),
    secrets: Iterable[Secret] = (),
) -> HostPlan:
    """Evaluate ``deploy`` for ``spec``, gather its facts, plan each operation."""
    ctx = _context(spec, groups, cache, settings.become)
    try:
        _evaluate(ctx, deploy, settings)
    except FactsNeeded:
        await cache.gather(conn, [System()])
        ctx = _context(spec, groups, cache, settings.become)
        _evaluate(ctx, deploy, settings)
    _check_notify(ctx)
    active = [(d, _selected(d, settings)) for d in ctx.declared]
    wanted = [(d.become, d.op.facts()) for d, why in active if not why]
    extra: list[Fact[Any]] = []
    if any(d.op.wants_system_facts(settings.templates) for d, why in active if not why):
        extra.append(System())
    await gather_facts(cache, conn, wanted, extra)
    env = PlanEnv(
        host=spec.name,
        variables=_variables(spec, groups, cache),
        base_dir=settings.base_dir,
        templates=settings.templates,
        secrets=tuple(secrets),
    )
    planned = _plan_all(active, cache, env)
    return HostPlan(spec.name, tuple(planned), cache.round_trips, env.secrets)


def fact_groups(
    wanted: Iterable[tuple[Become | None, Iterable[Fact[Any]]]],
    extra: Iterable[Fact[Any]] = (),
) -> list[tuple[Become | None, list[Fact[Any]]]]:
    """Which facts to gather with which become: ``wanted`` is each operation's become with
    the facts it reads, ``extra`` facts no operation declared (the system fact).

    - no operation has a become: everything without (one round trip, as before);
    - every operation that reads facts has the same become: everything with it (one
      round trip: the facts of root-only files, the shadow hash, root's crontab are read
      as the operations will see them);
    - they disagree: the facts that need become (``Fact.needs_become``) of operations
      that have one are read with the first become given; the rest without (two round
      trips at most). Kept simple: a second become user's facts are read as the first's.
    """
    pairs = [(become, list(facts)) for become, facts in wanted]
    pairs = [(become, facts) for become, facts in pairs if facts]
    first = next((become for become, _ in pairs if become is not None), None)
    every = [f for _, facts in pairs for f in facts] + list(extra)
    if first is None:
        return [(None, every)]
    if all(become == first for become, _ in pairs):
        return [(first, every)]
    raised = {f for become, facts in pairs if become is not None for f in facts if f.needs_become}
    return [
        (first, [f for f in every if f in raised]),
        (None, [f for f in every if f not in raised]),
    ]


async def gather_facts(
    cache: FactCache,
    conn: Connector,
    wanted: Iterable[tuple[Become | None, Iterable[Fact[Any]]]],
    extra: Iterable[Fact[Any]] = (),
) -> None:
    """Gather what :func:`fact_groups` says, one round trip per group with missing facts."""
    for become, facts in fact_groups(wanted, extra):
        await cache.gather(conn, facts, become=become)


def _variables(spec: HostSpec, groups: tuple[str, ...], cache: FactCache) -> Mapping[str, Any]:
    variables: dict[str, Any] = dict(spec.vars)
    variables.setdefault("inventory_hostname", spec.name)
    variables.setdefault("group_names", [g for g in groups if g != "all"])
    system = System()
    if cache.has(system):
        facts = cache.get(system).ansible_facts()
        variables.setdefault("ansible_facts", facts)
        for key, value in facts.items():
            variables.setdefault(f"ansible_{key}", value)
    return variables


def _plan_all(
    active: list[tuple[Declared, str]], cache: FactCache, env: PlanEnv
) -> list[PlannedOp]:
    planned: list[PlannedOp] = []
    notified: set[str] = set()
    for index, (declared, why) in enumerate(active):
        if declared.handler is not None:
            continue
        if why:
            planned.append(PlannedOp(index, declared, None, why))
            continue
        change = _plan_one(declared, cache, env)
        if change.reports_changed:
            notified.update(declared.notify)
        planned.append(PlannedOp(index, declared, change))
    for index, (declared, why) in enumerate(active):  # handlers: once, at the end, in order
        if declared.handler is None:
            continue
        if declared.handler not in notified:
            planned.append(PlannedOp(index, declared, None, "handler not notified"))
        elif why:
            planned.append(PlannedOp(index, declared, None, why))
        else:
            planned.append(PlannedOp(index, declared, _plan_one(declared, cache, env)))
    return planned


def _plan_one(declared: Declared, cache: FactCache, env: PlanEnv) -> Change:
    try:
        change = declared.op.plan(cache, env)
        for fact, value in change.facts_after:
            cache.put(fact, value)
        return change
    except InputError as exc:
        if exc.path is None:
            _locate(exc, declared.origin, env.host)
        raise
    except OpsforgeError:
        raise
    except Exception as exc:
        where = declared.origin
        raise (
            user_code_error(exc, where, env.host)
            if where
            else PlanError(f"{declared.name}: {type(exc).__name__}: {exc}", host=env.host)
        ) from None


def _check_notify(ctx: HostContext) -> None:
    for declared in ctx.declared:
        for name in declared.notify:
            if name not in ctx.handlers:
                known = ", ".join(sorted(ctx.handlers)) or "none defined"
                file, _, line = declared.origin.rpartition(":")
                raise InputError(
                    f"'{declared.name}' notifies unknown handler '{name}' (handlers: {known})",
                    path=file or None,
                    line=int(line) if line.isdigit() else None,
                )
