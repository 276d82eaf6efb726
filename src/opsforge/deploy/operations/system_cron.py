"""cron: a named job in a user's crontab, marked the way Ansible marks it::

    #Ansible: backup
    0 2 * * * /usr/local/bin/backup

so jobs an Ansible run made are found and updated, and the other way round. The
crontab is read with ``crontab -l`` and written whole with ``crontab -``; lines
that are not ours are kept as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from opsforge.deploy.commands import Command, quote
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.system_state import Crontab
from opsforge.deploy.operation import Change, DiffItem, Operation, PlanEnv
from opsforge.errors import InputError

__all__ = ["MARKER", "SPECIAL_TIMES", "Cron"]

MARKER = "#Ansible: "
SPECIAL_TIMES = ("annually", "daily", "hourly", "monthly", "reboot", "weekly", "yearly")
_FIELD = re.compile(r"^[A-Za-z0-9*/,-]+$")


@dataclass(frozen=True)
class Cron(Operation):
    job_name: str
    job: str | None = None
    minute: str = "*"
    hour: str = "*"
    day: str = "*"
    month: str = "*"
    weekday: str = "*"
    special_time: str | None = None
    user: str | None = None
    present: bool = True
    disabled: bool = False

    kind: ClassVar[str] = "system.cron"

    def __post_init__(self) -> None:
        if not self.job_name or "\n" in self.job_name:
            raise InputError("cron: name is required (one line): it marks the job")
        if self.present:
            if not self.job or "\n" in self.job:
                raise InputError("cron: job is required (one line)")
            for label in ("minute", "hour", "day", "month", "weekday"):
                value = getattr(self, label)
                if not _FIELD.match(value):
                    raise InputError(f"cron: {label} {value!r} is not a cron time field")
            if self.special_time is not None and self.special_time not in SPECIAL_TIMES:
                raise InputError(
                    f"cron: special_time {self.special_time!r} (one of {', '.join(SPECIAL_TIMES)})"
                )
        if self.user is not None and not re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", self.user):
            raise InputError(f"cron: bad user {self.user!r}")

    def describe(self) -> str:
        who = f" ({self.user})" if self.user else ""
        return f"cron {self.job_name}{who}" + ("" if self.present else " (absent)")

    def line(self) -> str:
        if self.special_time:
            when = f"@{self.special_time}"
        else:
            when = " ".join((self.minute, self.hour, self.day, self.month, self.weekday))
        return ("#" if self.disabled else "") + f"{when} {self.job}"

    def facts(self) -> tuple[Fact[Any], ...]:
        return (Crontab(self.user),)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        current = facts.get(Crontab(self.user))
        lines = (current or "").split("\n")
        if lines[-1] == "":
            lines.pop()
        marker = MARKER + self.job_name
        out: list[str] = []
        found: str | None = None
        index = 0
        while index < len(lines):
            line = lines[index]
            if line == marker and found is None:
                has_job = index + 1 < len(lines) and not lines[index + 1].startswith(MARKER)
                found = lines[index + 1] if has_job else ""
                index += 2 if has_job else 1
                if self.present:
                    out += [marker, self.line()]
                continue
            out.append(line)
            index += 1
        if self.present and found is None:
            out += [marker, self.line()]
        new = "".join(f"{line}\n" for line in out)
        whose = f"crontab of {self.user}" if self.user else "crontab"
        if new == (current or "") and (current is not None or not self.present):
            what = f"'{self.line()}'" if self.present else "absent"
            return Change.noop(f"job {self.job_name} in the {whose} is {what}")
        who = ["-u", self.user] if self.user else []
        write = Command(
            f"printf '%s' {quote(new)} | " + " ".join(["crontab", *map(quote, who), "-"])
        )
        before = found or None
        after = self.line() if self.present else None
        return Change(
            (write,),
            (DiffItem(f"cron {self.job_name}", before, after),),
            facts_after=((Crontab(self.user), new),),
        )
