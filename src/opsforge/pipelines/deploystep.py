"""The built-in ``deploy`` step: an opsforge deploy from a pipeline job.

Params: ``file`` (a deploy.py or playbook), ``inventory``, ``limit`` (host pattern),
``check`` (dry run), ``diff``, ``extra_args`` (list). It runs ``opsforge apply`` — the
deploy domain's public entry point — as a child process in the job's process group
handling, so its output lands in the job log and a timeout or Ctrl-C stops it.
"""

from __future__ import annotations

import shlex
import sys

from opsforge.connectors.execution import execute
from opsforge.connectors.local import local_starter
from opsforge.errors import UsageError
from opsforge.pipelines.steps import StepCall

__all__ = ["deploy_command", "deploy_step"]


def deploy_command(call: StepCall) -> list[str]:
    file = call.param("file")
    inventory = call.param("inventory")
    if not file or not inventory:
        raise UsageError(f"job {call.job.name}: the deploy step needs file and inventory")
    argv = [sys.executable, "-m", "opsforge", "apply", str(file), "-i", str(inventory)]
    if call.param("limit"):
        argv.append(str(call.param("limit")))
    if call.param("check"):
        argv.append("--check")
    if call.param("diff"):
        argv.append("--diff")
    argv += [str(a) for a in call.param("extra_args", [])]
    return argv


async def deploy_step(call: StepCall) -> int:
    argv = deploy_command(call)
    call.log.note("$ " + shlex.join(["opsforge", *argv[3:]]))
    result = await execute(
        local_starter(call.env),
        "exec " + shlex.join(argv),
        host="local",
        cwd=str(call.workdir),
        timeout=call.step.timeout,
        on_stdout=call.log.stdout,
        on_stderr=call.log.stderr,
        capture=False,
    )
    call.log.flush()
    return result.exit_code if result.exit_code is not None else 1
