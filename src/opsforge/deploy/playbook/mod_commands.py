"""Command modules: command, shell, raw, script; wait_for (a check loop on the host)
and pause (a sleep in the host's script). Their results (rc, stdout, stderr) are
known once the script ran; stdout and stderr come back apart."""

from __future__ import annotations

import base64
import os
import secrets as _secrets
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from opsforge.deploy.commands import Command, quote
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.commands import PathExists
from opsforge.deploy.operation import Change, DiffItem, Operation, PlanEnv
from opsforge.deploy.playbook.args import as_float, as_int, as_list, as_str, opt_str
from opsforge.deploy.playbook.modules import (
    BuildEnv,
    ModuleCall,
    ModuleSpec,
    Output,
    register_module,  # fmt: skip
)
from opsforge.errors import InputError
from opsforge.types import Secret

__all__ = ["RunCommand", "split_output"]


def split_output(text: str, marker: str) -> tuple[str, str]:
    """(stdout, stderr) of a section printed as ``stdout \\n MARKER \\n stderr``."""
    head, sep, tail = (text + "\n").rpartition("\n" + marker + "\n")
    if not sep:
        return text, ""
    return head, tail


@dataclass(frozen=True)
class RunCommand(Operation):
    """Run ``text`` (already shell text) with Ansible's guards; stderr kept apart."""

    kind: ClassVar[str] = "server.command"

    text: str
    shown: str
    chdir: str | None = None
    creates: str | None = None
    removes: str | None = None
    stdin: str | None = None
    secrets: tuple[Secret, ...] = ()
    marker: str = field(default_factory=lambda: "OPSF-ERR-" + _secrets.token_hex(6))
    #: seconds before the command's process group is killed (``async`` with ``poll``)
    time_limit: int | None = None

    def describe(self) -> str:
        return self.shown if len(self.shown) <= 60 else self.shown[:57] + "..."

    def facts(self) -> tuple[Fact[Any], ...]:
        return tuple(PathExists(p) for p in (self.creates, self.removes) if p)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        if self.creates and facts.get(PathExists(self.creates)):
            return Change.noop(f"skipped, since {self.creates} exists")
        if self.removes and not facts.get(PathExists(self.removes)):
            return Change.noop(f"skipped, since {self.removes} does not exist")
        run = self.text
        if self.chdir:
            run = f"cd {quote(self.chdir)} && {run}"
        if self.stdin is not None:
            data = base64.b64encode(self.stdin.encode()).decode()
            run = f"printf '%s' {data} | base64 -d | {{ {run}\n}}"
        if self.time_limit is not None:  # timeout signals the command's whole group
            run = f"timeout {self.time_limit} /bin/sh -c {quote(run)}"
        body = "\n".join(
            [
                "e=$(mktemp) || exit 1",
                "r=0",
                f'{{ {run}\n}} 2>"$e" || r=$?',
                f"printf '\\n%s\\n' {self.marker}",
                'cat "$e"; rm -f "$e"',
                'exit "$r"',
            ]
        )
        after = ((PathExists(self.creates), True),) if self.creates else ()
        return Change((Command(body, self.secrets),), (DiffItem("command", None, self.shown),),
                      facts_after=after)  # fmt: skip


@dataclass
class CommandCall(ModuleCall):
    operation: RunCommand
    cmd: Any = None

    opaque = True
    check_skips = True

    def describe(self) -> str:
        return self.operation.describe()

    def facts(self) -> tuple[Fact[Any], ...]:
        return self.operation.facts()

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        return self.operation.plan(facts, env)

    def op(self) -> Operation | None:
        return self.operation

    def result(self, change: Change, output: Output | None) -> dict[str, Any] | None:
        if change.is_noop:
            return {"changed": False, "failed": False, "rc": 0, "stdout": change.reason,
                    "stderr": "", "stdout_lines": [change.reason], "stderr_lines": [],
                    "cmd": self.cmd, "msg": change.reason}  # fmt: skip
        if output is None:
            return None
        stdout, stderr = split_output(output.stdout, self.operation.marker)
        stdout, stderr = stdout.rstrip("\r\n"), stderr.rstrip("\r\n")
        rc = output.exit_code if output.exit_code is not None else -1
        result: dict[str, Any] = {
            "changed": True,
            "failed": rc != 0,
            "rc": rc,
            "stdout": stdout,
            "stderr": stderr,
            "stdout_lines": stdout.splitlines(),
            "stderr_lines": stderr.splitlines(),
            "cmd": self.cmd,
        }
        if rc != 0:
            result["msg"] = "non-zero return code"
        if rc == 124 and self.operation.time_limit is not None:
            limit = self.operation.time_limit
            result["msg"] = f"async task did not complete within the requested time - {limit}s"
        return result


def _secret_parts(value: Any) -> tuple[str, tuple[Secret, ...]]:
    if isinstance(value, Secret):
        return value.reveal(), (value,)
    return as_str(value, "cmd"), ()


def _guards(args: dict[str, Any]) -> dict[str, Any]:
    return {
        "chdir": opt_str(args.get("chdir")),
        "creates": opt_str(args.get("creates")),
        "removes": opt_str(args.get("removes")),
        "stdin": opt_str(args.get("stdin")),
    }


def _command(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    secrets: tuple[Secret, ...] = ()
    if args.get("argv") is not None:
        argv = [_secret_parts(a) for a in as_list(args["argv"])]
        words = [w for w, _ in argv]
        secrets = tuple(s for _, ss in argv for s in ss)
        cmd: Any = words
    else:
        raw = args.get("cmd", args.get("_raw_params"))
        if raw is None:
            raise InputError("command: no command given (free form, cmd or argv)")
        text, secrets = _secret_parts(raw)
        try:
            words = shlex.split(text)
        except ValueError as exc:
            raise InputError(f"command: cannot split {text!r} into words: {exc}") from None
        cmd = words
    if not words:
        raise InputError("command: the command is empty")
    line = " ".join(shlex.quote(w) for w in words)
    shown = " ".join(words)
    return [CommandCall(RunCommand(line, shown, secrets=secrets, **_guards(args)), cmd)]


def _shell(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    raw = args.get("cmd", args.get("_raw_params"))
    if raw is None or not str(raw).strip():
        raise InputError("shell: no command given")
    text, secrets = _secret_parts(raw)
    executable = opt_str(args.get("executable")) or "/bin/sh"
    line = f"{quote(executable)} -c {quote(text)}"
    return [CommandCall(RunCommand(line, text, secrets=secrets, **_guards(args)), text)]


def _raw(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    raw = args.get("_raw_params")
    if raw is None or not str(raw).strip():
        raise InputError("raw: no command given")
    text, secrets = _secret_parts(raw)
    executable = opt_str(args.get("executable")) or "/bin/sh"
    line = f"{quote(executable)} -c {quote(text)}"
    return [CommandCall(RunCommand(line, text, secrets=secrets), text)]


def _script(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    raw = args.get("cmd", args.get("_raw_params"))
    if raw is None:
        raise InputError("script: name the script")
    words = shlex.split(as_str(raw, "script"))
    path = env.find(words[0], "files", "script")
    with open(path, "rb") as fh:
        data = base64.b64encode(fh.read()).decode()
    executable = opt_str(args.get("executable"))
    runner = f"{quote(executable)} " if executable else ""
    argv = " ".join(shlex.quote(w) for w in words[1:])
    line = (
        f's=$(mktemp) && printf \'%s\' {data} | base64 -d > "$s" && chmod 700 "$s" && '
        f'{{ {runner}"$s" {argv}; r=$?; rm -f "$s"; [ "$r" -eq 0 ]; }}'
    )
    shown = f"script {os.path.basename(path)} {argv}".strip()
    return [CommandCall(RunCommand(line, shown, **_guards(args)), shown)]


_WAIT_PORT = (
    "python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])),"
    " {ct}).close()' {host} {port} 2>/dev/null || "
    "bash -c 'exec 3<>/dev/tcp/$0/$1' {host} {port} 2>/dev/null"
)


def _wait_for(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    timeout = as_int(args.get("timeout", 300), "timeout")
    delay = as_int(args.get("delay", 0), "delay")
    sleep = as_float(args.get("sleep", 1), "sleep")
    state = opt_str(args.get("state")) or "started"
    host = opt_str(args.get("host")) or "127.0.0.1"
    ct = as_int(args.get("connect_timeout", 5), "connect_timeout")
    if args.get("port") is not None:
        port = as_int(args["port"], "port")
        check = _WAIT_PORT.format(ct=ct, host=quote(host), port=port)
        what = f"port {host}:{port}"
        want_up = state in ("started", "present")
        if state not in ("started", "present", "stopped", "absent"):
            raise InputError(f"wait_for: state {state!r} is not supported for ports")
    elif args.get("path") is not None:
        path = as_str(args["path"], "path")
        regex = opt_str(args.get("search_regex"))
        what = f"path {path}"
        if regex:
            check = f"grep -Eq {quote(regex)} {quote(path)} 2>/dev/null"
        else:
            check = f"[ -e {quote(path)} ]"
        want_up = state in ("started", "present")
    elif args.get("search_regex") is None:
        check, what, want_up = "true", f"{timeout}s", False
        delay, timeout = timeout, 0
    else:
        raise InputError("wait_for: give a port or a path")
    test = f"( {check} )" if want_up else f"! ( {check} )"
    msg = opt_str(args.get("msg")) or f"Timeout when waiting for {what}"
    body = "\n".join(
        [
            "s=$(date +%s)",
            f"sleep {delay}" if delay else ":",
            "while :; do",
            f'  if {test}; then echo "elapsed $(( $(date +%s) - s ))"; exit 0; fi',
            f"  [ $(( $(date +%s) - s )) -ge {timeout} ] && break",
            f"  sleep {sleep:g}",
            "done",
            f"echo {quote(msg)} >&2",
            "exit 1",
        ]
    )
    call = CommandCall(RunCommand(body, f"wait_for {what}"), f"wait_for {what}")
    call.opaque = False
    call.check_skips = False
    return [WaitCall(call.operation, call.cmd)]


class WaitCall(CommandCall):
    opaque = False
    check_skips = False

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        change = super().plan(facts, env)
        return Change(change.actions, (), change.reason, changed=False)

    def result(self, change: Change, output: Output | None) -> dict[str, Any] | None:
        base = super().result(change, output)
        if base is None:
            return None
        elapsed = 0
        for line in base["stdout_lines"]:
            if line.startswith("elapsed "):
                elapsed = int(line.split()[1])
        out = {"changed": False, "failed": base["failed"], "elapsed": elapsed}
        if base["failed"]:
            out["msg"] = base["stderr"] or "timeout"
        return out


def _pause(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    seconds = 0.0
    if args.get("minutes") is not None:
        seconds += as_float(args["minutes"], "minutes") * 60
    if args.get("seconds") is not None:
        seconds += as_float(args["seconds"], "seconds")
    return [PauseCall(seconds, opt_str(args.get("prompt")))]


@dataclass
class PauseCall(ModuleCall):
    seconds: float
    prompt: str | None

    def describe(self) -> str:
        return f"pause {self.seconds:g}s"

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        if self.seconds <= 0:
            why = "no prompt when not interactive" if self.prompt else "nothing to wait for"
            return Change.noop(why)
        return Change((Command(f"sleep {self.seconds:g}"),), changed=False)

    def result(self, change: Change, output: Output | None) -> dict[str, Any] | None:
        return {"changed": False, "failed": False, "user_input": "",
                "delta": int(self.seconds)}  # fmt: skip


_GUARD_PARAMS = frozenset({"chdir", "creates", "removes", "stdin"})
_IGNORED = frozenset({"warn", "stdin_add_newline", "strip_empty_ends", "expand_argument_vars"})
register_module(ModuleSpec("command", _GUARD_PARAMS | _IGNORED | {"cmd", "argv"}, _command,
                           free_form=True))  # fmt: skip
register_module(ModuleSpec("shell", _GUARD_PARAMS | _IGNORED | {"cmd", "executable"}, _shell,
                           free_form=True))  # fmt: skip
register_module(ModuleSpec("raw", frozenset({"executable"}), _raw, free_form=True))
_SCRIPT_PARAMS = frozenset({"cmd", "chdir", "creates", "removes", "executable"})
register_module(ModuleSpec("script", _SCRIPT_PARAMS, _script, free_form=True))
_WAIT_PARAMS = {"host", "port", "path", "state", "timeout", "delay", "sleep", "search_regex",
                "connect_timeout", "msg", "active_connection_states", "exclude_hosts"}  # fmt: skip
register_module(ModuleSpec("wait_for", frozenset(_WAIT_PARAMS), _wait_for))
register_module(ModuleSpec("pause", frozenset({"seconds", "minutes", "prompt", "echo"}), _pause))
