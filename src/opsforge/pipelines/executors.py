"""Where a job's scripts run: the local shell (default), a docker container, or an ssh host.

Every executor runs one script file per step through
:func:`opsforge.connectors.execution.execute` (the same streaming, timeout and
process-group kill as ``opsforge exec``): each step is its own process group, and a
timeout or Ctrl-C kills the whole group. Docker additionally removes the container.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from opsforge.types import HostSpec, Result

if TYPE_CHECKING:
    from collections.abc import Callable

    from opsforge.connectors.base import Connector
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


class ShellExecutor:
    """Runs steps as local processes (the default)."""

    name = "shell"

    async def run_script(self, run: ScriptRun) -> Result:
        return await execute(
            local_starter(run.env),
            "exec " + shell_command(run.shell, str(run.script)),
            host="local",
            cwd=str(run.cwd),
            timeout=run.time_limit,
            on_stdout=run.on_stdout,
            on_stderr=run.on_stderr,
            capture=False,
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
    """Runs a job on an inventory host through opsforge's connection pool.

    :meth:`open` ships the job's local workdir to a private directory on the host
    (:class:`~opsforge.pipelines.remote.RemoteWorkdir`, one round trip); each step is
    then one command whose stdin carries the step's script and variables (private
    files next to ``work/``: no value on a command line) and which runs the script in
    ``work/``. :meth:`collect` mirrors back what the artifact, report and cache globs
    select; :meth:`close` removes the directory."""

    name = "ssh"

    def __init__(
        self,
        spec: HostSpec,
        pool: ConnectionPool,
        name: str,
        workdir: Path,
        scratch: Path,
        cache_dirs: Mapping[str, str] | None = None,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        from opsforge.pipelines.remote import RemoteWorkdir

        self.spec = spec
        self.pool = pool
        self.workdir = workdir
        self.base_env = dict(base_env or {})  # this machine's environment: not sent
        self.cache_dirs = dict(cache_dirs or {})  # variable -> directory name on the host
        self.remote = RemoteWorkdir(self._connect, spec.name, name, scratch)

    async def _connect(self) -> Connector:
        return await self.pool.get(self.spec)

    async def open(self) -> int:
        """Ship the local workdir to the host; the number of bytes sent."""
        return await self.remote.ship(self.workdir, self.cache_dirs)

    async def collect(self, select: Callable[[Path], set[str]]) -> int:
        """Mirror the remote work directory back into the local workdir (see
        :meth:`RemoteWorkdir.mirror`); the number of files fetched."""
        return await self.remote.mirror(self.workdir, select)

    async def close(self) -> None:
        await self.remote.remove()

    async def run_script(self, run: ScriptRun) -> Result:
        from opsforge.pipelines.remote import remote_env, step_bundle, step_command

        conn = await self._connect()
        work = self.remote.work
        directory, name = work.rpartition("/")[0], run.script.stem
        try:
            sub = run.cwd.relative_to(self.workdir).as_posix()
        except ValueError:
            sub = "."
        env = remote_env(run.env, run.job_env, self.base_env, str(self.workdir), work)
        env.update({**self.remote.env, "OPSFORGE_WORKDIR": work})
        bundle = step_bundle(name, run.script.read_bytes(), env)
        command = shell_command(run.shell, f"{directory}/{name}.sh")
        return await conn.run(
            step_command(directory, name, command),
            cwd=work if sub == "." else f"{work}/{sub}",
            stdin=bundle,
            timeout=run.time_limit,
            on_stdout=run.on_stdout,
            on_stderr=run.on_stderr,
            capture=False,
        )
