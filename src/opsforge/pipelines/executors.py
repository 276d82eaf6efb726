"""Where a job's scripts run: the local shell (default), a docker container, or an ssh host.

Every executor runs one script file per step through
:func:`opsforge.connectors.execution.execute` (the same streaming, timeout and
process-group kill as ``opsforge exec``): each step is its own process group, and a
timeout or Ctrl-C kills the whole group. Docker additionally removes the container.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from opsforge.connectors.base import OutputCallback
from opsforge.connectors.execution import execute
from opsforge.connectors.local import local_starter
from opsforge.connectors.spawn import spawn
from opsforge.types import HostSpec, Result

if TYPE_CHECKING:
    from opsforge.connectors.pool import ConnectionPool

__all__ = [
    "DockerExecutor",
    "SSHExecutor",
    "ScriptExecutor",
    "ScriptRun",
    "ShellExecutor",
    "default_shell",
    "docker_available",
    "docker_image_exists",
    "shell_argv",
    "shell_command",
]


@dataclass(frozen=True, slots=True)
class ScriptRun:
    """One script to run: the file, the shell command line (``{0}`` = the file), the
    process environment, the job's own variables (what a container gets), the workdir,
    the time limit and where output goes."""

    script: Path
    shell: str
    env: Mapping[str, str]
    job_env: Mapping[str, str]
    cwd: Path
    time_limit: float | None
    on_stdout: OutputCallback
    on_stderr: OutputCallback


class ScriptExecutor(Protocol):
    name: str

    async def run_script(self, run: ScriptRun) -> Result: ...


def default_shell() -> str:
    return "bash -e {0}" if shutil.which("bash") else "sh -e {0}"


def shell_command(shell: str, script: str) -> str:
    """``shell`` with ``{0}`` replaced by the quoted script path (appended when absent)."""
    quoted = shlex.quote(script)
    if "{0}" in shell:
        return shell.replace("{0}", quoted)
    return f"{shell} {quoted}"


_SHELL_SYNTAX = frozenset("|&;<>()$`\\*?[]~\n")


@functools.lru_cache(maxsize=64)
def _shell_words(shell: str) -> tuple[str, ...] | None:
    """The words of a shell line, None when it uses shell syntax (pipes, redirections,
    expansions) and so needs ``/bin/sh -c``."""
    if any(c in _SHELL_SYNTAX for c in shell.replace("{0}", "")):
        return None
    words = tuple(shlex.split(shell))
    return words if any("{0}" in w for w in words) else (*words, "{0}")


def shell_argv(shell: str, script: str) -> list[str]:
    """The argv that runs ``script`` with ``shell``: the words of the shell line itself
    (as GitHub's runner splits a custom ``shell:``), or ``/bin/sh -c`` when the line
    uses shell syntax."""
    words = _shell_words(shell)
    if words is None:
        return ["/bin/sh", "-c", "exec " + shell_command(shell, script)]
    return [w.replace("{0}", script) for w in words]


class ShellExecutor:
    """Runs steps as local processes (the default): the shell itself is the one process
    of the step (no wrapper), in its own process group."""

    name = "shell"

    async def run_script(self, run: ScriptRun) -> Result:
        return await spawn(
            shell_argv(run.shell, str(run.script)),
            env=run.env,
            cwd=str(run.cwd),
            timeout=run.time_limit,
            on_stdout=run.on_stdout,
            on_stderr=run.on_stderr,
        )


def _docker(*args: str, timeout: float = 10.0) -> subprocess.CompletedProcess[bytes] | None:
    if shutil.which("docker") is None:
        return None
    try:
        return subprocess.run(["docker", *args], capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def docker_available() -> str | None:
    """None when dockerd answers; else why not (one line)."""
    if shutil.which("docker") is None:
        return "the docker CLI is not installed"
    proc = _docker("version", "--format", "{{.Server.Version}}", timeout=5.0)
    if proc is None or proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines() if proc else []
        return f"dockerd is not reachable ({detail[-1] if detail else 'no answer'})"
    return None


def docker_image_exists(image: str) -> bool:
    proc = _docker("image", "inspect", "--format", "{{.Id}}", image)
    return proc is not None and proc.returncode == 0


class DockerExecutor:
    """Runs each step in a fresh ``docker run --rm`` of the job's image, with the
    workdir and the script directory bind-mounted at the same paths."""

    name = "docker"

    def __init__(self, image: str, container_prefix: str) -> None:
        self.image = image
        self.prefix = container_prefix
        self._count = 0

    async def run_script(self, run: ScriptRun) -> Result:
        self._count += 1
        name = f"{self.prefix}-{self._count}"
        cwd, parent = run.cwd, run.script.parent
        args = ["docker", "run", "--rm", "--name", name, "--network", "host"]
        args += ["-v", f"{cwd}:{cwd}", "-v", f"{parent}:{parent}:ro", "-w", str(cwd)]
        for key in run.job_env:
            args += ["-e", key]  # the value comes from the docker CLI's own environment
        shell = run.shell
        if shell.startswith("bash"):
            shell = "sh -e {0}"  # images built FROM scratch/busybox have no bash
        args += [
            "--entrypoint",
            "",
            self.image,
            *shlex.split(shell_command(shell, str(run.script))),
        ]
        process_env = {**run.env, **run.job_env}
        try:
            return await execute(
                local_starter(process_env),
                "exec " + shlex.join(args),
                host="local",
                timeout=run.time_limit,
                on_stdout=run.on_stdout,
                on_stderr=run.on_stderr,
                capture=False,
            )
        except BaseException:  # timeout, Ctrl-C: the CLI is killed, the container is not
            await asyncio.shield(asyncio.to_thread(self._remove, name, dict(process_env)))
            raise

    @staticmethod
    def _remove(name: str, env: dict[str, str]) -> None:
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run(
                ["docker", "rm", "-f", name],
                capture_output=True,
                timeout=30,
                check=False,
                env={**os.environ, **{k: v for k, v in env.items() if k == "DOCKER_HOST"}},
            )


class SSHExecutor:
    """Runs each step on an inventory host through opsforge's connectors: the script is
    put into a per-job directory on the host (``/tmp/opsforge-<run>/<job>``) and run
    there, in ``work/``, with the job's variables. Project files and artifacts are not
    copied to the host; a job that needs them fetches them itself."""

    name = "ssh"

    def __init__(self, spec: HostSpec, pool: ConnectionPool, remote_dir: str) -> None:
        self.spec = spec
        self.pool = pool
        self.remote_dir = remote_dir

    async def run_script(self, run: ScriptRun) -> Result:
        conn = await self.pool.get(self.spec)
        work = f"{self.remote_dir}/work"
        await conn.run(f"mkdir -p {shlex.quote(work)}")
        remote_script = f"{self.remote_dir}/{run.script.name}"
        await conn.put(run.script.read_bytes(), remote_script, mode=0o700)
        shell = run.shell
        return await conn.run(
            shell_command(shell, remote_script),
            env=dict(run.job_env),
            cwd=work,
            timeout=run.time_limit,
            on_stdout=run.on_stdout,
            on_stderr=run.on_stderr,
            capture=False,
        )
