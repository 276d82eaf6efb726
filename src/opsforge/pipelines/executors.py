"""Where a job's scripts run: the local shell (default), a docker container, or an ssh host.

Every executor runs one script file per step, each step its own process group: a
timeout or Ctrl-C kills the whole group. The shell and docker executors start their
program (``bash -e step.sh``, ``docker run ...``) directly with
:func:`opsforge.connectors.spawn.spawn`; docker additionally removes the container.
The ssh executor runs the step through the host's pooled connection (the same
streaming, timeout and remote process-group kill as ``opsforge exec``).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from opsforge.connectors.base import OutputCallback
from opsforge.connectors.spawn import spawn
from opsforge.pipelines.variables import job_environment
from opsforge.types import HostSpec, Result

if TYPE_CHECKING:
    from collections.abc import Callable

    from opsforge.connectors.base import Connector
    from opsforge.connectors.pool import ConnectionPool

__all__ = [
    "DOCKER_CLI_KEYS",
    "DockerExecutor",
    "DockerImage",
    "DockerState",
    "SSHExecutor",
    "ScriptExecutor",
    "ScriptRun",
    "ShellExecutor",
    "default_shell",
    "docker_available",
    "docker_cli",
    "docker_cli_env",
    "env_options",
    "inspect_image",
    "remove_containers",
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


#: environment variables that choose the daemon the docker CLI talks to: always the
#: run's own, never a job's (a GitLab docker-in-docker job sets ``DOCKER_HOST`` for
#: its own docker client, not for the runner)
DOCKER_CLI_KEYS = (
    "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY",
)  # fmt: skip


def docker_cli_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` for a docker CLI process, with the daemon settings of opsforge's own environment."""
    out = {k: v for k, v in env.items() if k not in DOCKER_CLI_KEYS}
    out.update({k: os.environ[k] for k in DOCKER_CLI_KEYS if k in os.environ})
    return out


def env_options(env: Mapping[str, str]) -> list[str]:
    """``-e NAME`` per variable: the container takes the value from the docker CLI's
    environment (see :func:`docker_cli_env`), so values stay off the command line. The
    daemon settings (:data:`DOCKER_CLI_KEYS`) are the CLI's own there, so a job's
    ``DOCKER_HOST`` reaches its container as ``-e NAME=value``."""
    args: list[str] = []
    for key, value in env.items():
        args += ["-e", f"{key}={value}" if key in DOCKER_CLI_KEYS else key]
    return args


def docker_cli(*args: str, timeout: float = 10.0) -> subprocess.CompletedProcess[bytes] | None:
    """``docker ARGS`` (captured), or None when the CLI is missing or does not answer."""
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
    proc = docker_cli("version", "--format", "{{.Server.Version}}", timeout=5.0)
    if proc is None or proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines() if proc else []
        return f"dockerd is not reachable ({detail[-1] if detail else 'no answer'})"
    return None


@dataclass(frozen=True, slots=True)
class DockerImage:
    """A local image: its id and the TCP ports it EXPOSEs (what service readiness waits for)."""

    name: str
    id: str
    exposed_tcp: tuple[int, ...] = ()


def inspect_image(name: str) -> DockerImage | None:
    """The local image ``name`` (one ``docker image inspect``), None when it is not there."""
    proc = docker_cli("image", "inspect", "--format", "{{.Id}} {{json .Config}}", name)
    if proc is None or proc.returncode != 0:
        return None
    image_id, _, config_json = proc.stdout.decode(errors="replace").strip().partition(" ")
    try:
        ports = (json.loads(config_json) or {}).get("ExposedPorts") or {}
    except (ValueError, AttributeError):
        ports = {}
    tcp = sorted(
        int(port)
        for port, _, proto in (str(key).partition("/") for key in ports)
        if port.isdigit() and proto in ("tcp", "")
    )
    return DockerImage(name, image_id, tuple(tcp))


class DockerState:
    """What one run asks dockerd once and shares between its jobs (kept on the run state):
    whether dockerd answers (one ``docker version``) and each distinct image (one
    ``docker image inspect``; a missing image is remembered too)."""

    def __init__(self) -> None:
        self._problem: str | None = None
        self._checked = False
        self.images: dict[str, DockerImage | None] = {}

    def problem(self) -> str | None:
        """None when dockerd answers, else why not (asked once per run)."""
        if not self._checked:
            self._problem = docker_available()
            self._checked = True
        return self._problem

    def image(self, name: str) -> DockerImage | None:
        if name not in self.images:
            self.images[name] = inspect_image(name)
        return self.images[name]


def remove_containers(names_or_ids: Sequence[str]) -> list[str]:
    """``docker rm -f -v`` each (anonymous volumes too); returns those removed."""
    if not names_or_ids:
        return []
    proc = docker_cli("rm", "-f", "-v", *names_or_ids, timeout=60.0)
    if proc is None:
        return []
    return proc.stdout.decode(errors="replace").split()


class DockerExecutor:
    """Runs each step in a fresh ``docker run --rm`` of the job's image, with the
    workdir and the script directory bind-mounted at the same paths. ``network``: the
    job's services network (or ``container:<id>``); None = the host's network. The
    container gets what the job defines or receives (its variables, the dotenv of its
    needs, ``--var``, predefined ``CI_*``), not this machine's own environment
    ``base_env`` (:func:`~opsforge.pipelines.variables.job_environment`)."""

    name = "docker"

    def __init__(
        self,
        image: str,
        container_prefix: str,
        *,
        network: str | None = None,
        labels: Mapping[str, str] | None = None,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        self.image = image
        self.prefix = container_prefix
        self.network = network
        self.labels = dict(labels or {})
        self.base_env = dict(os.environ if base_env is None else base_env)
        self._count = 0

    async def run_script(self, run: ScriptRun) -> Result:
        self._count += 1
        name = f"{self.prefix}-{self._count}"
        cwd, parent = run.cwd, run.script.parent
        args = ["docker", "run", "--rm", "--name", name, "--network", self.network or "host"]
        for key, value in self.labels.items():
            args += ["--label", f"{key}={value}"]
        args += ["-v", f"{cwd}:{cwd}", "-v", f"{parent}:{parent}:ro", "-w", str(cwd)]
        container_env = job_environment(run.env, run.job_env, self.base_env)
        args += env_options(container_env)
        shell = run.shell
        if shell.startswith("bash"):
            shell = "sh -e {0}"  # images built FROM scratch/busybox have no bash
        args += [
            "--entrypoint",
            "",
            self.image,
            *shlex.split(shell_command(shell, str(run.script))),
        ]
        process_env = docker_cli_env({**run.env, **container_env})
        try:
            return await spawn(
                args,
                env=process_env,
                cwd=str(cwd),
                timeout=run.time_limit,
                on_stdout=run.on_stdout,
                on_stderr=run.on_stderr,
            )
        except BaseException:  # timeout, Ctrl-C: the CLI is killed, the container is not
            await asyncio.shield(asyncio.to_thread(remove_containers, [name]))
            raise


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
