"""``async``/``poll`` on command tasks, and the ``async_status`` module.

``async: N`` with ``poll`` > 0 runs the command with a time limit of N seconds (the task
waits, as Ansible's polling does; over the limit the command's process group is killed and
the task fails). ``poll: 0`` starts the command detached on the host (its own session, so
the end of the SSH session does not stop it) and registers ``ansible_job_id``; a later
``async_status: jid=...`` (usually with ``until: job.finished``) reads how it went. Job
files live in ``~/.opsforge_async/<jid>/`` on the host (stdout, stderr, rc); ``mode:
cleanup`` removes them.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import secrets as _secrets
from collections.abc import Mapping, Sequence
from typing import Any

from opsforge.deploy.commands import quote
from opsforge.deploy.operation import Change
from opsforge.deploy.playbook.args import as_int, as_str, opt_str
from opsforge.deploy.playbook.mod_commands import CommandCall, RunCommand
from opsforge.deploy.playbook.modules import (
    BuildEnv,
    ModuleCall,
    ModuleSpec,
    Output,
    register_module,  # fmt: skip
)
from opsforge.errors import InputError

__all__ = ["ASYNC_MODULES", "with_async"]

#: the modules ``async`` works on
ASYNC_MODULES = frozenset({"command", "shell", "script", "raw"})
_JOBS = "$HOME/.opsforge_async"
_DETACH = (
    '/bin/sh -c "$1" >"$2/stdout" 2>"$2/stderr" </dev/null; '
    'echo $? >"$2/rc.tmp"; mv "$2/rc.tmp" "$2/rc"'
)


def with_async(
    calls: Sequence[ModuleCall], keywords: Mapping[str, Any], render: Any
) -> Sequence[ModuleCall]:
    """``calls`` as ``async``/``poll`` make them (unchanged without ``async``)."""
    if keywords.get("async") is None:
        return calls
    limit = as_int(render(keywords["async"]), "async")
    poll = as_int(render(keywords.get("poll", 15)), "poll")
    if limit <= 0:
        raise InputError(f"async must be a number of seconds above 0, got {limit}")
    out: list[ModuleCall] = []
    for call in calls:
        if type(call) is not CommandCall:
            raise InputError("async works on command, shell, script and raw tasks")
        operation = call.operation
        if poll > 0:
            timed = dataclasses.replace(operation, time_limit=limit)
            out.append(dataclasses.replace(call, operation=timed))
            continue
        jid = f"j{_secrets.token_hex(6)}"
        out.append(AsyncStart(_started(operation, jid, limit), operation.shown, jid=jid))
    return out


def _started(operation: RunCommand, jid: str, limit: int) -> RunCommand:
    run = operation.text
    if operation.chdir:
        run = f"cd {quote(operation.chdir)} && {run}"
    run = f"timeout -s KILL {limit} /bin/sh -c {quote(run)}"
    body = "\n".join(
        [
            f'd="{_JOBS}/{jid}"',
            'mkdir -p "$d"',
            f'setsid /bin/sh -c {quote(_DETACH)} opsforge-async {quote(run)} "$d" '
            "</dev/null >/dev/null 2>&1 &",
            'echo "$d"',
        ]
    )
    return dataclasses.replace(operation, text=body, chdir=None, stdin=None)


@dataclasses.dataclass
class AsyncStart(CommandCall):
    jid: str = ""

    def result(self, change: Change, output: Output | None) -> dict[str, Any] | None:
        base = super().result(change, output)
        if base is None or change.is_noop or base.get("failed"):
            return base
        return {"changed": True, "failed": False, "started": 1, "finished": 0,
                "ansible_job_id": self.jid, "results_file": base["stdout"].strip()}  # fmt: skip


@dataclasses.dataclass
class AsyncStatus(CommandCall):
    jid: str = ""
    cleanup: bool = False

    opaque = False
    check_skips = False
    runs_in_check = True

    def plan(self, facts: Any, env: Any) -> Change:
        change = super().plan(facts, env)
        return Change(change.actions, (), change.reason, changed=False)

    def result(self, change: Change, output: Output | None) -> dict[str, Any] | None:
        base = super().result(change, output)
        if base is None or change.is_noop:
            return base
        if base["rc"] != 0:
            return {"changed": False, "failed": True, "finished": 1, "ansible_job_id": self.jid,
                    "msg": base["stderr"] or f"could not find job {self.jid}"}  # fmt: skip
        if self.cleanup:
            return {"changed": False, "failed": False, "ansible_job_id": self.jid,
                    "erased": base["stdout"].strip()}  # fmt: skip
        lines = base["stdout"].split("\n")
        state, encoded = lines[0].split(), [*lines[1:3], "", ""][:2]  # empty: stripped
        try:
            stdout, stderr = (base64.b64decode(x).decode("utf-8", "replace") for x in encoded)
        except (binascii.Error, ValueError):
            return {"changed": False, "failed": True, "msg": f"job {self.jid}: unreadable"}
        result: dict[str, Any] = {"ansible_job_id": self.jid, "started": 1, "changed": False,
                                  "failed": False, "finished": 0}  # fmt: skip
        if state[0] == "finished":
            rc = int(state[1])
            stdout, stderr = stdout.rstrip("\r\n"), stderr.rstrip("\r\n")
            result.update(finished=1, changed=True, rc=rc, failed=rc != 0, stdout=stdout,
                          stderr=stderr, stdout_lines=stdout.splitlines(),
                          stderr_lines=stderr.splitlines())  # fmt: skip
            if rc == 137:
                result["msg"] = "async task did not complete within the requested time"
            elif rc:
                result["msg"] = "non-zero return code"
        return result


def _async_status(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    jid = as_str(args["jid"], "jid")
    if not jid.replace("_", "").replace(".", "").isalnum():
        raise InputError(f"async_status: {jid!r} is not a job id")
    mode = opt_str(args.get("mode")) or "status"
    if mode not in ("status", "cleanup"):
        raise InputError(f"async_status: mode {mode!r} (status or cleanup)")
    d = f'"{_JOBS}/{jid}"'
    missing = f"could not find job {jid}"
    if mode == "cleanup":
        body = f"rm -rf {d} && echo {d}"
    else:
        body = "\n".join(
            [
                f"[ -d {d} ] || {{ echo {quote(missing)} >&2; exit 1; }}",
                f'if [ -f {d}/rc ]; then echo "finished $(cat {d}/rc)"; else echo running; fi',
                f"base64 -w0 {d}/stdout; echo",
                f"base64 -w0 {d}/stderr; echo",
            ]
        )
    shown = f"async_status {jid}"
    return [AsyncStatus(RunCommand(body, shown), shown, jid=jid, cleanup=mode == "cleanup")]


register_module(
    ModuleSpec("async_status", frozenset({"jid", "mode"}), _async_status, required=("jid",))
)
