"""The plan: an immutable, validated DAG of steps.

A plan is data. It can be built, printed (:meth:`Plan.to_dict`), compared and
tested without running anything; :class:`~opsforge.engine.Executor` runs it.
"""

from __future__ import annotations

import heapq
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsforge.errors import PlanError
from opsforge.types import Result

if TYPE_CHECKING:
    from opsforge.engine.context import StepContext, StepOutcome

__all__ = ["Action", "Plan", "Step"]

#: What a step runs: an async function of its context.
Action = Callable[["StepContext"], Awaitable["StepOutcome | Result | None"]]


@dataclass(frozen=True, slots=True)
class Step:
    """One unit of work on one host.

    ``deps`` name steps (of any host) that must succeed first. ``retries`` extra
    attempts are made after a failed, timed-out or unreachable attempt, waiting
    ``retry_delay`` seconds, doubled each time (capped, with a little jitter).
    ``timeout`` bounds each attempt.

    ``after_failures``: the step becomes ready once every dep is *done*, whatever
    its status (failed, skipped), and its action decides what to do (pipelines:
    ``when: always/on_failure``). Stopping the run (interrupt, fail-fast) still
    skips it.
    """

    id: str
    host: str
    action: Action = field(compare=False)
    deps: tuple[str, ...] = ()
    timeout: float | None = None
    retries: int = 0
    retry_delay: float = 1.0
    description: str = ""
    tags: frozenset[str] = frozenset()
    after_failures: bool = False

    @property
    def label(self) -> str:
        """The description, or the id when there is none."""
        return self.description or self.id

    def to_dict(self) -> dict[str, Any]:
        action = self.action
        name = getattr(action, "__qualname__", None) or type(action).__qualname__
        module = getattr(action, "__module__", None)
        return {
            "id": self.id,
            "host": self.host,
            "description": self.description,
            "deps": list(self.deps),
            "timeout": self.timeout,
            "retries": self.retries,
            "retry_delay": self.retry_delay,
            "tags": sorted(self.tags),
            "action": f"{module}.{name}" if module else name,
        }


def _check_step(step: Step) -> None:
    if not isinstance(step, Step):
        raise PlanError(f"not a Step: {step!r}")
    if not step.id:
        raise PlanError(f"a step on host {step.host!r} has an empty id")
    if not step.host:
        raise PlanError(f"step {step.id!r} has an empty host")
    if step.retries < 0:
        raise PlanError(f"step {step.id!r}: retries must be >= 0, not {step.retries}")
    if step.retry_delay < 0:
        raise PlanError(f"step {step.id!r}: retry_delay must be >= 0, not {step.retry_delay}")
    if step.timeout is not None and step.timeout <= 0:
        raise PlanError(f"step {step.id!r}: timeout must be > 0, not {step.timeout}")
    if not callable(step.action):
        raise PlanError(f"step {step.id!r}: action is not callable")


def _find_cycle(remaining: set[str], by_id: Mapping[str, Step]) -> list[str]:
    """One dependency cycle among ``remaining`` (steps Kahn's algorithm could not order)."""
    start = min(remaining)
    path: list[str] = []
    position: dict[str, int] = {}
    node = start
    # every remaining node has at least one remaining dep, so walking deps must loop
    while node not in position:
        position[node] = len(path)
        path.append(node)
        node = min(d for d in by_id[node].deps if d in remaining)
    cycle = path[position[node] :]
    # report in execution direction: a runs before b before ... (a -> b means b needs a)
    cycle.reverse()
    first = cycle.index(min(cycle))  # start at the smallest id: one message per cycle
    cycle = cycle[first:] + cycle[:first]
    return [*cycle, cycle[0]]


@dataclass(frozen=True, slots=True)
class Plan:
    """An immutable DAG of steps, validated on construction.

    Raises :class:`~opsforge.errors.PlanError` for duplicate ids, unknown
    dependencies and cycles (naming the steps in the cycle).
    """

    steps: tuple[Step, ...]
    _by_id: Mapping[str, Step] = field(init=False, repr=False, compare=False)
    _order: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _dependents: Mapping[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    @classmethod
    def build(cls, steps: Iterable[Step]) -> Plan:
        return cls(tuple(steps))

    def __post_init__(self) -> None:
        if not isinstance(self.steps, tuple):
            object.__setattr__(self, "steps", tuple(self.steps))
        by_id: dict[str, Step] = {}
        for step in self.steps:
            _check_step(step)
            if step.id in by_id:
                raise PlanError(
                    f"duplicate step id {step.id!r} (hosts {by_id[step.id].host!r} "
                    f"and {step.host!r})"
                )
            by_id[step.id] = step
        dependents: dict[str, list[str]] = {sid: [] for sid in by_id}
        for step in self.steps:
            for dep in dict.fromkeys(step.deps):
                if dep not in by_id:
                    raise PlanError(f"step {step.id!r} depends on unknown step {dep!r}")
                dependents[dep].append(step.id)
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_dependents", {k: tuple(v) for k, v in dependents.items()})
        object.__setattr__(self, "_order", self._sort())

    def _sort(self) -> tuple[str, ...]:
        """Kahn's algorithm; ties broken by position in ``steps`` (stable)."""
        index = {step.id: i for i, step in enumerate(self.steps)}
        missing = {step.id: len(set(step.deps)) for step in self.steps}
        heap = [i for i, step in enumerate(self.steps) if missing[step.id] == 0]
        heapq.heapify(heap)
        order: list[str] = []
        while heap:
            sid = self.steps[heapq.heappop(heap)].id
            order.append(sid)
            for child in self._dependents[sid]:
                missing[child] -= 1
                if missing[child] == 0:
                    heapq.heappush(heap, index[child])
        if len(order) != len(self.steps):
            remaining = set(self._by_id) - set(order)
            cycle = _find_cycle(remaining, self._by_id)
            raise PlanError(
                "dependency cycle: " + " -> ".join(cycle) + " (each step needs the one before it)"
            )
        return tuple(order)

    def __len__(self) -> int:
        return len(self.steps)

    def __contains__(self, step_id: object) -> bool:
        return step_id in self._by_id

    def __getitem__(self, step_id: str) -> Step:
        return self._by_id[step_id]

    @property
    def hosts(self) -> tuple[str, ...]:
        """Host names in order of first appearance."""
        return tuple(dict.fromkeys(step.host for step in self.steps))

    def steps_for(self, host: str) -> tuple[Step, ...]:
        return tuple(step for step in self.steps if step.host == host)

    def dependents(self, step_id: str) -> tuple[str, ...]:
        """Ids of the steps that list ``step_id`` in their deps."""
        return self._dependents[step_id]

    def topological_order(self) -> tuple[Step, ...]:
        """Every step after its deps; otherwise in plan order."""
        return tuple(self._by_id[sid] for sid in self._order)

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-safe data, steps in topological order."""
        return {
            "hosts": list(self.hosts),
            "steps": [step.to_dict() for step in self.topological_order()],
        }
