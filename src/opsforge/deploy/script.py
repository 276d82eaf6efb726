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


#: text content up to this size travels as a quoted printf argument (no process at all)
TEXT_INLINE_LIMIT = 1024 * 1024


def _as_text(content: bytes) -> str | None:
    """``content`` as text if it can travel inside a shell word (UTF-8, no NUL)."""
    if len(content) > TEXT_INLINE_LIMIT or b"\0" in content:
        return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _write_file(action: WriteFile, token: str) -> str:
    """Atomic write: a new temp next to the target (noclobber: never an existing file),
    its mode set at creation when a umask can express it, then renamed over the target.

    Text goes through the ``printf`` builtin and binary through ``base64 -d``; the
    common case (text, mode like 0644, no owner) costs one process: ``mv``.
    """
    temp = quote(_temp_name(action.path))
    lines = [f"t={temp}", "trap 'rm -f \"$t\"' EXIT"]
    mode = action.mode
    by_umask = mode is not None and mode & ~0o666 == 0
    if by_umask and mode is not None:
        lines.append(f"umask {0o777 & ~mode:04o}")
    text = _as_text(action.content)
    if text is not None:
        lines.append(f"set -C; printf '%s' {quote(text)} > \"$t\"; set +C")
    else:
        data = base64.encodebytes(action.content).decode("ascii")
        lines += [
            f"set -C; base64 -d > \"$t\" <<'{token}_DATA'",
            data.rstrip("\n"),
            f"{token}_DATA",
            "set +C",
        ]
    if by_umask:
        lines.append("umask 022")
    elif mode is not None:
        lines.append(f'chmod {mode:04o} "$t"')
    if action.owner:
        owner = f"{action.owner}:{action.group}" if action.group else action.owner
        lines.append(f'chown {quote(owner)} "$t"')
    elif action.group:
        lines.append(f'chgrp {quote(action.group)} "$t"')
    if action.validate:
        check = action.validate.replace("%s", '"$t"')
        failed = quote(f"validation failed ({action.validate}): {action.path} left unchanged")
        lines.append(f"if ! {check}; then echo {failed} >&2; exit 1; fi")
    lines.append(f'mv -f "$t" {quote(action.path)}')
    lines.append("trap - EXIT")
    return "\n".join(lines)


def _temp_name(path: str) -> str:
    """``dir/.name.opsforge-<random>``: next to the target, so the rename is atomic."""
    head, _, name = path.rpartition("/")
    suffix = _secrets.token_hex(6)
    if head or path.startswith("/"):
        return f"{head}/.{name}.opsforge-{suffix}"
    return f".{name}.opsforge-{suffix}"


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
