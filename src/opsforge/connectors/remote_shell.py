"""Shell command values shared by every connector: wrap, sudo dialogue, kill.

Pure functions and a small parser; no I/O. A connector runs :func:`wrap`'s
string with ``sh -c`` (local) or as an SSH exec request (remote) and feeds the
process's stderr through a :class:`StderrFilter`, which strips the markers the
wrapper prints and reports:

* the process-group id of the command (``$$`` of the wrapper: sshd starts every
  non-pty session command with ``setsid``, and the local connector uses
  ``start_new_session``, so the wrapper's pid is its pgid and the pgid of every
  process the command starts);
* the sudo password prompt (only then the password is written to stdin);
* the "become ok" marker printed by the shell sudo started (only then the
  user's stdin is written, so a password never reaches the command and the
  command's stdin never reaches sudo).

No PTY is used anywhere: stdout and stderr stay separate, and no sudo output
can be confused with command output.
"""

from __future__ import annotations

import enum
import re
import secrets
import shlex
from collections.abc import Mapping

from opsforge.errors import UsageError
from opsforge.types import Become

__all__ = [
    "BECOME_NEEDS_PASSWORD",
    "CWD_EXIT_CODE",
    "Event",
    "StderrFilter",
    "finish_command",
    "install_command",
    "kill_command",
    "new_token",
    "wrap",
]

#: Exit code of a wrapped command whose ``cwd`` does not exist or is not accessible.
CWD_EXIT_CODE = 126

BECOME_NEEDS_PASSWORD = (
    "sudo needs a password: set ansible_become_password / --ask-become-pass / "
    "OPSFORGE_BECOME_PASSWORD"
)

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_KILL_GRACE_STEPS = 20  # x 0.1 s between TERM and KILL
_MAX_PREAMBLE = 4096


def new_token() -> str:
    """A fresh marker token: unlikely to appear in any command's own output."""
    return f"OPSFORGE-{secrets.token_hex(8)}"


def _say(text: str) -> str:
    """A shell statement printing one line to stderr."""
    return f"printf '%s\\n' {shlex.quote(text)} >&2"


def _body(command: str, env: Mapping[str, str] | None, cwd: str | None) -> str:
    parts: list[str] = []
    for name, value in (env or {}).items():
        if not _ENV_NAME.match(name):
            raise UsageError(f"invalid environment variable name: {name!r}")
        parts.append(f"export {name}={shlex.quote(value)}")
    if cwd is not None:
        q = shlex.quote(cwd)
        parts.append(
            f"cd -- {q} 2>/dev/null || {{ {_say(f'opsforge: cannot change directory to {cwd}')}"
            f"; exit {CWD_EXIT_CODE}; }}"
        )
    parts.append(f"exec /bin/sh -c {shlex.quote(command)}")
    return "; ".join(parts)


def _sudo(become: Become, token: str, inner: str) -> str:
    if become.method != "sudo":
        raise UsageError(f"unsupported become method {become.method!r} (supported: sudo)")
    prompt = f"{token}:prompt:"
    return (
        f"exec sudo -H -S -p {shlex.quote(prompt)} -u {shlex.quote(become.user)} -- "
        f"/bin/sh -c {shlex.quote(inner)}"
    )


def wrap(
    command: str,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    become: Become | None = None,
    token: str,
) -> str:
    """The POSIX sh string that runs ``command`` with env, cwd and become.

    It first prints ``TOKEN:pgid:$$`` to stderr; with ``become`` it then execs
    ``sudo -S -p TOKEN:prompt:`` whose shell prints ``TOKEN:become-ok`` before
    exporting ``env``, changing to ``cwd`` (exit :data:`CWD_EXIT_CODE` with a
    message when that fails) and exec-ing ``/bin/sh -c command``.
    """
    body = _body(command, env, cwd)
    head = f"printf '%s:pgid:%s\\n' {shlex.quote(token)} \"$$\" >&2"
    if become is None:
        return f"{head}; {body}"
    inner = f"{_say(f'{token}:become-ok')}; {body}"
    return f"{head}; {_sudo(become, token, inner)}"


def kill_command(pgid: int, become: Become | None, *, token: str) -> str:
    """A wrapped command that kills process group ``pgid``: TERM, a short grace, KILL."""
    if pgid <= 1:
        raise ValueError(f"refusing to kill process group {pgid}")
    g = f"-{pgid}"  # dash's kill takes neither "--" nor "-s SIG" before a negative pid
    # Zombies still count for ``kill -0``; where ps exists, wait for live members only
    # (an orphaned zombie lingers until init reaps it, slowly in some containers).
    alive = (
        f"alive() {{ s=$(ps -e -o pgid= -o stat= 2>/dev/null) || {{ kill -0 {g} 2>/dev/null; "
        f"return; }}; printf '%s\\n' \"$s\" | awk '$1 == {pgid} && $2 !~ /^Z/ "
        "{f = 1} END {exit !f}'; }"
    )
    script = (
        f"{alive}; kill -TERM {g} 2>/dev/null || exit 0; i=0; "
        f"while alive && [ $i -lt {_KILL_GRACE_STEPS} ]; do sleep 0.1; i=$((i+1)); done; "
        f"kill -KILL {g} 2>/dev/null; exit 0"
    )
    return wrap(script, become=become, token=token)


def install_command(
    dest: str,
    *,
    size: int,
    tmp_name: str,
    mode: int | None = None,
    owner: str | None = None,
    group: str | None = None,
) -> str:
    """Shell that stores its stdin atomically at ``dest``.

    Stdin goes to ``tmp_name`` (next to ``dest``, created exclusively and
    private); unless exactly ``size`` bytes arrived (an interrupted upload) the
    temp is removed and ``dest`` is untouched. Then :func:`finish_command`.
    """
    t = shlex.quote(tmp_name)
    return f"m=$(umask); umask 077; set -C; cat > {t} && " + _finish(
        dest, t, size=size, mode=mode, owner=owner, group=group
    )


def finish_command(
    dest: str,
    *,
    tmp_name: str,
    size: int | None = None,
    mode: int | None = None,
    owner: str | None = None,
    group: str | None = None,
) -> str:
    """Shell that checks an uploaded temp, sets its mode/owner and renames it over ``dest``.

    Without ``mode`` the temp gets the mode of an existing ``dest`` (GNU
    ``chmod --reference``), else ``0666`` minus the umask, like a new file.
    On any failure the temp is removed and the exit status is non-zero.
    """
    t = shlex.quote(tmp_name)
    return "m=$(umask); " + _finish(dest, t, size=size, mode=mode, owner=owner, group=group)


def _finish(
    dest: str, t: str, *, size: int | None, mode: int | None, owner: str | None, group: str | None
) -> str:
    d = shlex.quote(dest)
    steps: list[str] = []
    if size is not None:
        steps.append(
            f'n=$(wc -c < {t}) && {{ [ "$n" -eq {size} ] || '
            f"{{ {_say(f'opsforge: incomplete upload ({size} bytes expected)')}; false; }}; }}"
        )
    if owner or group:  # before chmod: chown clears setuid/setgid bits
        spec = shlex.quote(f"{owner or ''}{':' + group if group else ''}")
        steps.append(f"chown {spec} {t}")
    if mode is not None:
        steps.append(f"chmod {mode:o} {t}")
    else:
        new_mode = "\"$(printf '%o' $((0666 & ~0$m)))\""
        steps.append(
            f"{{ {{ [ -e {d} ] && chmod --reference={d} {t} 2>/dev/null; }} "
            f"|| chmod {new_mode} {t}; }}"
        )
    steps.append(f"mv -f -- {t} {d}")
    return "{ " + " && ".join(steps) + f"; }} || {{ s=$?; rm -f -- {t}; exit $s; }}"


class Event(enum.Enum):
    """What the stderr filter saw."""

    PGID = "pgid"
    PROMPT = "prompt"
    BECOME_OK = "become-ok"


class StderrFilter:
    """Strips wrapper markers from a stderr byte stream; reports pgid and sudo events.

    Feed it chunks; it returns the bytes that belong to the command's stderr and
    the events seen. Once the command itself runs (after the pgid marker, or
    after "become ok" with become) everything passes through untouched.
    """

    def __init__(self, token: str, *, become: bool) -> None:
        self._pgid_mark = f"{token}:pgid:".encode()
        self._prompt = f"{token}:prompt:".encode()
        self._ok_line = f"{token}:become-ok".encode()
        self._become = become
        self._buf = b""
        self._passthrough = False
        self.pgid: int | None = None
        self.prompts = 0
        self.become_ok = False
        self.preamble = b""  # non-marker text before the command ran (sudo messages)

    @property
    def command_started(self) -> bool:
        return self._passthrough

    def feed(self, data: bytes) -> tuple[bytes, list[Event]]:
        if self._passthrough:
            return data, []
        self._buf += data
        out: list[bytes] = []
        events: list[Event] = []
        while not self._passthrough:
            if self._become and self._buf.startswith(self._prompt):
                self._buf = self._buf[len(self._prompt) :]
                self.prompts += 1
                events.append(Event.PROMPT)
                continue
            nl = self._buf.find(b"\n")
            if nl < 0:
                if len(self._buf) > _MAX_PREAMBLE:
                    out.append(self._keep(self._buf))
                    self._buf = b""
                break
            line, self._buf = self._buf[:nl], self._buf[nl + 1 :]
            self._line(line, out, events)
        if self._passthrough and self._buf:
            out.append(self._buf)
            self._buf = b""
        return b"".join(out), events

    def _line(self, line: bytes, out: list[bytes], events: list[Event]) -> None:
        if self.pgid is None and line.startswith(self._pgid_mark):
            try:
                self.pgid = int(line[len(self._pgid_mark) :])
            except ValueError:
                out.append(self._keep(line + b"\n"))
                return
            events.append(Event.PGID)
            self._passthrough = not self._become
        elif self._become and line == self._ok_line:
            self.become_ok = True
            self._passthrough = True
            events.append(Event.BECOME_OK)
        else:
            out.append(self._keep(line + b"\n"))

    def _keep(self, text: bytes) -> bytes:
        if len(self.preamble) < _MAX_PREAMBLE:
            self.preamble += text[: _MAX_PREAMBLE - len(self.preamble)]
        return text

    def finish(self) -> bytes:
        """What is still held at end of stream."""
        rest, self._buf = self._buf, b""
        return self._keep(rest) if not self._passthrough else rest

    def sudo_refused(self) -> bool:
        """sudo said the password was wrong (or asked a second time)."""
        return self.prompts > 1 or b"Sorry, try again" in self.preamble
