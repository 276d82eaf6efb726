"""The deploy operation that writes the hardened sshd lines, tested before they count.

Written as a drop-in file (whole content) or as a managed block at the top of the
main config (sshd takes the first value it reads, so the block wins over later lines
and comes before any ``Match``). The new file replaces the old atomically, then
``sshd -t`` tests the whole configuration; if it fails, the previous file is put back
(or the new drop-in removed) and the operation fails — no broken config is left for
the next restart. The previous file stays as ``PATH.opsforge-prev`` until harden has
logged in again over a new connection (see :mod:`opsforge.security.harden.run`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from opsforge.deploy.commands import Command, WriteFile, quote
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.files import FileState
from opsforge.deploy.operation import Change, DiffItem, Operation, PlanEnv
from opsforge.errors import PlanError

__all__ = ["BEGIN", "END", "PREVIOUS_SUFFIX", "SshdConfig", "render_block", "render_drop_in"]

BEGIN = "# BEGIN OPSFORGE HARDENING (managed by opsforge harden; edits are replaced)"
END = "# END OPSFORGE HARDENING"
PREVIOUS_SUFFIX = ".opsforge-prev"


def render_drop_in(lines: tuple[tuple[str, str], ...]) -> str:
    body = "".join(f"{option} {value}\n" for option, value in lines)
    return f"{BEGIN}\n{body}{END}\n"


def render_block(current: str, lines: tuple[tuple[str, str], ...]) -> str:
    """``current`` with the managed block (replaced, or added) at its top."""
    kept: list[str] = []
    inside = False
    for line in current.splitlines(keepends=True):
        stripped = line.strip()
        if stripped == BEGIN:
            inside = True
        elif inside and stripped == END:
            inside = False
        elif not inside:
            kept.append(line)
    return render_drop_in(lines) + "".join(kept)


@dataclass(frozen=True)
class SshdConfig(Operation):
    """``path`` holds the hardened lines (``drop_in``: the whole file; else a block)."""

    kind: ClassVar[str] = "harden.sshd_config"

    path: str
    main_config: str
    lines: tuple[tuple[str, str], ...]
    drop_in: bool

    def describe(self) -> str:
        return f"sshd hardening in {self.path}"

    def facts(self) -> tuple[Fact[Any], ...]:
        return (FileState(self.path, content=True),)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        info = facts.get(FileState(self.path, content=True))
        exists = info is not None and info.is_file
        if info is not None and not info.is_file:
            raise PlanError(f"{self.path} is a {info.type}, not a file", host=env.host)
        if exists and (info is None or info.content is None):
            raise PlanError(f"cannot read {self.path} (use --become)", host=env.host)
        before = info.content.decode("utf-8", "replace") if info and info.content else None
        if self.drop_in:
            after = render_drop_in(self.lines)
        else:
            if before is None:
                raise PlanError(f"{self.path} does not exist", host=env.host)
            after = render_block(before, self.lines)
        if before == after:
            return Change.noop(f"{self.path} holds the hardened settings")
        mode = info.mode if info is not None and exists else 0o644
        previous = self.path + PREVIOUS_SUFFIX
        path, prev, conf = quote(self.path), quote(previous), quote(self.main_config)
        save = f"cp -p {path} {prev}" if exists else f"rm -f {prev}"
        if self.drop_in:
            save = f"mkdir -p {quote(self.path.rsplit('/', 1)[0] or '/')}; {save}"
        restore = f"mv -f {prev} {path}" if exists else f"rm -f {path}"
        test = Command(
            "SSHD=$(command -v sshd || echo /usr/sbin/sshd); "
            f'if ! out=$("$SSHD" -t -f {conf} 2>&1); then {restore}; '
            "printf '%s\\n' \"$out\" >&2; "
            'echo "sshd -t rejected the new configuration; the previous one is back" >&2; '
            "exit 1; fi"
        )
        actions = (Command(save), WriteFile(self.path, after.encode(), mode=mode), test)
        return Change(actions, (DiffItem(self.path, before, after, content=True),))
