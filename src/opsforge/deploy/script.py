"""One POSIX sh script per host: many sections, one round trip, a status per section.

Facts and applies both travel this way. Each section's output (stdout and stderr
merged) is framed by marker lines carrying a random token, and its exit status is
in the closing marker, so one run of ``sh -s`` answers for every section.

With ``stop_on_error`` a failed section ends the script: later sections do not
run (their status is "not run"), which is how a host stops at its first failed
operation.
"""

from __future__ import annotations

import base64
import secrets as _secrets
from collections.abc import Sequence
from dataclasses import dataclass

from opsforge.deploy.commands import Action, Command, WriteFile, quote
from opsforge.errors import OpsforgeError

__all__ = ["ScriptError", "Section", "SectionResult", "build_script", "new_token", "parse_output"]


class ScriptError(OpsforgeError):
    """The script's output could not be read back (a marker missing or garbled)."""


@dataclass(frozen=True, slots=True)
class Section:
    """One unit of a script: a fact's command or an operation's actions."""

    actions: tuple[Action, ...]
    may_fail: bool = False  # a failure does not stop the script (facts, ignore_errors)


@dataclass(frozen=True, slots=True)
class SectionResult:
    index: int
    exit_code: int | None  # None: not run (an earlier section failed)
    output: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def new_token() -> str:
    return "OPSF" + _secrets.token_hex(8)


def _write_file(action: WriteFile, token: str) -> str:
    """Atomic write: base64 into a temp next to the target, chmod/chown, rename."""
    path = quote(action.path)
    data = base64.encodebytes(action.content).decode("ascii")
    lines = [
        f"t=$(mktemp {quote(_temp_pattern(action.path))}) || exit $?",
        "trap 'rm -f \"$t\"' EXIT",
        f"base64 -d > \"$t\" <<'{token}_DATA'",
        data.rstrip("\n"),
        f"{token}_DATA",
    ]
    if action.mode is not None:
        lines.append(f'chmod {action.mode:04o} "$t"')
    if action.owner or action.group:
        owner = quote(f"{action.owner or ''}:{action.group or ''}".rstrip(":"))
        if not action.owner:
            owner = quote(action.group or "")
            lines.append(f'chgrp {owner} "$t"')
        else:
            lines.append(f'chown {owner} "$t"')
    lines.append(f'mv -f "$t" {path}')
    lines.append("trap - EXIT")
    return "\n".join(lines)


def _temp_pattern(path: str) -> str:
    head, _, name = path.rpartition("/")
    return (
        f"{head or '.'}/.{name}.opsforge-XXXXXX"
        if head or path.startswith("/")
        else (f".{name}.opsforge-XXXXXX")
    )


def _action_text(action: Action, token: str) -> str:
    if isinstance(action, Command):
        return action.text
    return _write_file(action, token)


def build_script(sections: Sequence[Section], token: str, *, stop_on_error: bool = True) -> bytes:
    """The whole script; each section runs in a subshell with ``set -e``."""
    out = ["exec 2>&1", "umask 022"]
    for index, section in enumerate(sections):
        body = "\n".join(_action_text(a, token) for a in section.actions) or ":"
        out.append(f"printf '\\n{token} {index} begin\\n'")
        out.append(f"(\nset -e\n{body}\n) </dev/null")
        out.append(f"r=$?; printf '\\n{token} {index} end %d\\n' \"$r\"")
        if stop_on_error and not section.may_fail:
            out.append('[ "$r" -eq 0 ] || exit "$r"')
    out.append("exit 0")
    return ("\n".join(out) + "\n").encode()


def parse_output(output: str, token: str, count: int) -> list[SectionResult]:
    """Split the script's output back into one result per section (in order)."""
    results: dict[int, SectionResult] = {}
    current: int | None = None
    buf: list[str] = []
    for line in output.split("\n"):
        if line.startswith(token + " "):
            words = line.split()
            if len(words) >= 3 and words[2] == "begin" and words[1].isdigit():
                current, buf = int(words[1]), []
                continue
            if len(words) == 4 and words[2] == "end" and current == int(words[1]):
                text = "\n".join(buf)
                if text.endswith("\n"):
                    text = text[:-1]
                results[current] = SectionResult(current, int(words[3]), text)
                current = None
                continue
        if current is not None:
            buf.append(line)
    if current is not None:  # the script died inside a section (killed, connection lost)
        results[current] = SectionResult(current, None, "\n".join(buf))
    return [results.get(i, SectionResult(i, None, "")) for i in range(count)]
