"""Facts: small typed parsers. A fact is a shell command and a ``parse`` of its output.

Facts are frozen dataclasses (their fields are the arguments, e.g. a path), so a
fact is its own cache key. :class:`FactCache` gathers every missing fact of a
host in **one round trip** (one script, one section per fact) and keeps the
parsed values for the run.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from opsforge.connectors.base import Connector
from opsforge.deploy.commands import Command
from opsforge.deploy.script import Section, build_script, new_token, parse_output
from opsforge.errors import OpsforgeError
from opsforge.types import Become

__all__ = ["Fact", "FactCache", "FactError"]

T = TypeVar("T")


class FactError(OpsforgeError):
    """A fact's command failed or its output could not be parsed."""


class Fact(abc.ABC, Generic[T]):
    """Subclass as a frozen dataclass: ``command()`` prints, ``parse()`` reads it back.

    ``parse`` gets the output with the exit code; it returns the typed value
    (a frozen dataclass, a tuple, None for "absent") or raises ``ValueError``.
    """

    name: ClassVar[str]
    #: run as root when the deploy uses become (e.g. reading /etc/shadow, root-owned files)
    needs_become: ClassVar[bool] = False

    @abc.abstractmethod
    def command(self) -> str:
        """POSIX sh printing what ``parse`` reads. Must not change anything."""

    @abc.abstractmethod
    def parse(self, output: str, exit_code: int) -> T:
        """The typed value from the command's output."""

    @classmethod
    def command_many(cls, facts: Sequence[Fact[Any]]) -> str | None:
        """One command answering several facts of this class, or None (not batchable)."""
        return None

    @classmethod
    def parse_many(cls, facts: Sequence[Fact[Any]], output: str, exit_code: int) -> list[Any]:
        """The values of ``facts`` (in order) from ``command_many``'s output."""
        raise NotImplementedError


class FactCache:
    """The facts of one host for one run."""

    def __init__(self, host: str) -> None:
        self.host = host
        self._values: dict[Fact[Any], Any] = {}
        self.round_trips = 0

    def has(self, fact: Fact[Any]) -> bool:
        return fact in self._values

    def get(self, fact: Fact[T]) -> T:
        try:
            return self._values[fact]  # type: ignore[no-any-return]
        except KeyError:
            raise FactError(f"fact {fact!r} was not gathered", host=self.host) from None

    def put(self, fact: Fact[T], value: T) -> None:
        self._values[fact] = value

    def missing(self, facts: Iterable[Fact[Any]]) -> list[Fact[Any]]:
        seen: dict[Fact[Any], None] = {}
        for fact in facts:
            if fact not in self._values:
                seen.setdefault(fact)
        return list(seen)

    async def gather(
        self, conn: Connector, facts: Iterable[Fact[Any]], *, become: Become | None = None
    ) -> None:
        """Gather every missing fact in one round trip (nothing to do: no round trip)."""
        todo = self.missing(facts)
        if not todo:
            return
        groups = _groups(todo)
        token = new_token()
        sections = [Section((Command(command),), may_fail=True) for _, command in groups]
        script = build_script(sections, token, stop_on_error=False)
        result = await conn.run("sh -s", stdin=script, become=become)
        self.round_trips += 1
        if result.exit_code != 0:
            raise FactError(
                f"gathering facts failed (exit {result.exit_code}): "
                f"{(result.stderr or result.stdout).strip()[:500]}",
                host=self.host,
            )
        parsed = parse_output(result.stdout, token, len(groups))
        for (members, _), section in zip(groups, parsed, strict=True):
            name = members[0].name
            if section.exit_code is None:
                raise FactError(f"fact {name}: no output came back", host=self.host)
            try:
                if len(members) == 1:
                    values = [members[0].parse(section.output, section.exit_code)]
                else:
                    values = type(members[0]).parse_many(members, section.output, section.exit_code)
            except ValueError as exc:
                raise FactError(
                    f"fact {name}: cannot parse its output ({exc}): "
                    f"{section.output.strip()[:300]!r}",
                    host=self.host,
                ) from None
            for fact, value in zip(members, values, strict=True):
                self._values[fact] = value


def _groups(facts: Sequence[Fact[Any]]) -> list[tuple[list[Fact[Any]], str]]:
    """Sections to run: one per batchable fact class (with 2+ facts), else one per fact."""
    by_class: dict[type[Fact[Any]], list[Fact[Any]]] = {}
    for fact in facts:
        by_class.setdefault(type(fact), []).append(fact)
    groups: list[tuple[list[Fact[Any]], str]] = []
    for cls, members in by_class.items():
        command = cls.command_many(members) if len(members) > 1 else None
        if command is not None:
            groups.append((members, command))
        else:
            groups.extend(([fact], fact.command()) for fact in members)
    return groups
