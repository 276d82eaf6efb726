"""Commands on the host: ``shell`` with Ansible's guards (creates, removes, unless, onlyif).

A command has no desired state, so it runs on every apply and reports *changed* —
unless ``changed=False`` says it only reads (Ansible's ``changed_when: false``),
or a guard says there is nothing to do (then it does not run at all). Guards are
decided from facts, in the same round trip as every other fact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from opsforge.deploy.commands import Command, quote
from opsforge.deploy.context import Declared, HostContext
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.commands import CommandSucceeds, PathExists
from opsforge.deploy.operation import Change, Operation, PlanEnv
from opsforge.errors import InputError
from opsforge.types import Secret

__all__ = ["Shell", "shell"]


@dataclass(frozen=True)
class Shell(Operation):
    kind: ClassVar[str] = "server.shell"

    commands: tuple[str, ...]
    chdir: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    creates: str | None = None
    removes: str | None = None
    unless: str | None = None
    onlyif: str | None = None
    changed: bool = True
    secrets: tuple[Secret, ...] = ()

    def describe(self) -> str:
        text = "; ".join(self.commands)
        return f"shell {text if len(text) <= 60 else text[:57] + '...'}"

    def facts(self) -> tuple[Fact[Any], ...]:
        needed: list[Fact[Any]] = []
        for path in (self.creates, self.removes):
            if path:
                needed.append(PathExists(path))
        for check in (self.unless, self.onlyif):
            if check:
                needed.append(CommandSucceeds(check))
        return tuple(needed)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        if self.creates and facts.get(PathExists(self.creates)):
            return Change.noop(f"{self.creates} exists (creates)")
        if self.removes and not facts.get(PathExists(self.removes)):
            return Change.noop(f"{self.removes} does not exist (removes)")
        if self.unless and facts.get(CommandSucceeds(self.unless)):
            return Change.noop(f"'{self.unless}' succeeded (unless)")
        if self.onlyif and not facts.get(CommandSucceeds(self.onlyif)):
            return Change.noop(f"'{self.onlyif}' failed (onlyif)")
        prefix: list[str] = []
        if self.chdir:
            prefix.append(f"cd {quote(self.chdir)}")
        for name, value in self.env.items():
            prefix.append(f"export {name}={quote(value)}")
        actions = [Command(line, self.secrets) for line in (*prefix, *self.commands)]
        return Change(actions=tuple(actions), changed=self.changed)


def shell(
    host: HostContext,
    commands: str | Sequence[str],
    *,
    chdir: str | None = None,
    env: Mapping[str, str] | None = None,
    creates: str | None = None,
    removes: str | None = None,
    unless: str | None = None,
    onlyif: str | None = None,
    changed: bool = True,
    secrets: Sequence[Secret] = (),
    **meta: Any,
) -> Declared:
    """Run shell command line(s) on the host; the operation fails at the first failing line.

    ``creates``/``removes``: skip when the path exists / does not exist.
    ``unless``/``onlyif``: skip when the check command succeeds / fails.
    ``changed=False``: report ok, not changed (a read-only command).
    """
    lines = (commands,) if isinstance(commands, str) else tuple(commands)
    if not lines or not all(isinstance(c, str) and c.strip() for c in lines):
        raise InputError("shell: give at least one non-empty command")
    for name in env or {}:
        if not name.isidentifier():
            raise InputError(f"shell: '{name}' is not a valid environment variable name")
    op = Shell(
        commands=lines,
        chdir=chdir,
        env=dict(env or {}),
        creates=creates,
        removes=removes,
        unless=unless,
        onlyif=onlyif,
        changed=changed,
        secrets=tuple(secrets),
    )
    return host.add(op, **meta)
