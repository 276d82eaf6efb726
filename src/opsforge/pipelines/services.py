"""A job's services as docker containers beside its step containers (docker executor only).

GitLab ``services:``, GitHub Actions ``jobs.<id>.services`` and CircleCI's secondary
``docker:`` images all land in :attr:`Job.services`. When the job runs in the docker
executor, :class:`JobServices`:

1. creates a user-defined network for the job (``opsforge-<run id>-<job hash>``),
2. starts each service detached on it, with its network aliases, variables,
   entrypoint, command (and GitHub ``options``), and follows its log into the job log
   (``[service] [<alias>] ...``),
3. waits until each is ready the way GitLab runner does: the TCP ports the service
   image EXPOSEs (or its ``HEALTHCHECK_TCP_PORT`` variable) accept connections, and a
   docker ``HEALTHCHECK`` (GitHub ``--health-cmd``) reports healthy, within
   ``RunSettings.services_timeout`` seconds (default :data:`SERVICE_WAIT_TIMEOUT`; past
   it: a warning, the job goes on, as in GitLab). A service that exits (or turns
   unhealthy) first fails the job, with its last log lines shown;
4. after the job (success, failure, timeout, Ctrl-C) removes the service containers
   and the network by ID and notes what it removed.

How a job reaches its services:

* **GitLab** (and native): by ``alias`` (several: separated by spaces or commas) and
  the two aliases GitLab derives from the image (``tutum/wordpress:latest`` →
  ``tutum-wordpress`` and ``tutum__wordpress``). Services get the job's variables
  plus their own ``variables``, as in GitLab.
* **GitHub Actions**: by the service's key; services get only their ``env``.
* **CircleCI**: on ``localhost``, as in CircleCI: the secondary containers and every
  step container share the network namespace of the first service container
  (``--network container:<first>``).

Readiness is probed from this machine to the service's address on the job network;
with a remote dockerd (``DOCKER_HOST`` tcp:// or ssh://) only the container state and
health are watched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from opsforge.errors import OpsforgeError
from opsforge.pipelines.executors import (
    DockerImage,
    DockerState,
    docker_cli,
    docker_cli_env,
    env_options,
    remove_containers,
)
from opsforge.pipelines.joblog import JobLog
from opsforge.pipelines.model import Job, Service
from opsforge.pipelines.variables import expand

__all__ = [
    "SERVICE_WAIT_TIMEOUT",
    "JobServices",
    "PlannedService",
    "ServiceError",
    "default_aliases",
    "plan_services",
    "resource_name",
]

#: seconds to wait for a service's ports / health (GitLab's wait_for_services_timeout)
SERVICE_WAIT_TIMEOUT = 30.0
#: log lines shown when a service exits before it is ready
LAST_LINES = 20
_POLL = 0.2


class ServiceError(OpsforgeError):
    """A job's services cannot start (e.g. a service image that is not present locally)."""


def default_aliases(image: str) -> tuple[str, ...]:
    """GitLab's aliases of a service image: the name without tag or digest, with ``/``
    as ``__`` and as ``-`` (``tutum/wordpress:latest`` → ``tutum__wordpress``,
    ``tutum-wordpress``). A registry port makes no valid hostname and is left out."""
    name = image.split("@", 1)[0]
    if name.rfind(":") > name.rfind("/"):
        name = name[: name.rfind(":")]
    out: list[str] = []
    for alias in (name.replace("/", "__"), name.replace("/", "-")):
        if alias and ":" not in alias and alias not in out:
            out.append(alias)
    return tuple(out)


def resource_name(run_id: str, job: str) -> str:
    """The docker name stem of a job's network and containers in this run."""
    return f"opsforge-{run_id}-{zlib.crc32(job.encode()):08x}"


@dataclass(frozen=True, slots=True)
class PlannedService:
    """One service, resolved: its local image, how it is named and what it gets."""

    service: Service
    image: DockerImage
    label: str
    container: str
    aliases: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)


def plan_services(
    job: Job,
    *,
    style: str,
    job_env: Mapping[str, str],
    docker: DockerState,
    stem: str,
) -> tuple[PlannedService, ...]:
    """Resolve ``job.services`` for ``style`` (the pipeline format: ``gitlab``,
    ``native``, ``github``, ``circleci``). Raises :class:`ServiceError` when a service
    image is not present locally (opsforge never pulls)."""
    out: list[PlannedService] = []
    for index, service in enumerate(job.services, start=1):
        name = expand(service.name, job_env)  # GitLab: `name: postgres:$PG_VERSION`
        image = docker.image(name)
        if image is None:
            raise ServiceError(
                f"service image {name} is not present locally "
                f"(opsforge never pulls: docker pull {name})"
            )
        own = {k: expand(v, job_env, keep_unknown=True) for k, v in service.variables.items()}
        aliases: tuple[str, ...] = ()
        env = own
        if style in ("github", "circleci"):  # the service key / CircleCI's `name:`
            aliases = (service.alias,) if service.alias else ()
        else:
            user = tuple((service.alias or "").replace(",", " ").split())
            aliases = tuple(dict.fromkeys((*user, *default_aliases(name))))
            env = {**job_env, **own}
        label = aliases[0] if aliases else name
        out.append(PlannedService(service, image, label, f"{stem}-svc{index}", aliases, env))
    return tuple(out)


@dataclass(slots=True)
class _Started:
    planned: PlannedService
    id: str
    follower: asyncio.Task[None] | None = None


@dataclass(frozen=True, slots=True)
class _Status:
    running: bool
    exit_code: int
    health: str | None
    ips: tuple[str, ...]
    health_output: str = ""


def _remote_daemon() -> bool:
    return os.environ.get("DOCKER_HOST", "").startswith(("tcp://", "ssh://"))


class JobServices:
    """The services of one attempt of one job: :meth:`start` before its steps,
    :meth:`stop` after them (always)."""

    def __init__(
        self,
        planned: Sequence[PlannedService],
        *,
        stem: str,
        labels: Mapping[str, str],
        log: JobLog,
        shared_localhost: bool = False,
        wait_timeout: float = SERVICE_WAIT_TIMEOUT,
    ) -> None:
        self.planned = tuple(planned)
        self.network = stem
        self.labels = dict(labels)
        self.log = log
        self.shared_localhost = shared_localhost and bool(self.planned)
        self.wait_timeout = wait_timeout
        self.removed: list[str] = []
        self._network_id: str | None = None
        self._started: list[_Started] = []
        self._stopped = False

    @property
    def step_network(self) -> str:
        """What the job's step containers join: the job network, or (CircleCI) the
        network namespace of the first service."""
        if self.shared_localhost:
            return f"container:{self.planned[0].container}"
        return self.network

    def _label_args(self) -> list[str]:
        args: list[str] = []
        for key, value in self.labels.items():
            args += ["--label", f"{key}={value}"]
        return args

    # -- start -------------------------------------------------------------------------

    async def start(self) -> str | None:
        """Create the network, start every service, wait until they are ready.
        Returns why the job fails, or None."""
        created = await asyncio.to_thread(
            docker_cli, "network", "create", "--driver", "bridge", *self._label_args(), self.network
        )
        if created is None or created.returncode != 0:
            return f"cannot create the services network {self.network}: {_why(created)}"
        self._network_id = created.stdout.decode().strip() or None
        for planned in self.planned:
            problem = await self._run(planned)
            if problem is not None:
                return problem
        waits = [asyncio.create_task(self._wait(started)) for started in self._started]
        try:  # the first service that fails ends the wait for the others
            for done in asyncio.as_completed(waits):
                problem = await done
                if problem is not None:
                    return problem
            return None
        finally:
            for wait in waits:
                wait.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

    async def _run(self, planned: PlannedService) -> str | None:
        service = planned.service
        first = planned is self.planned[0]
        network = self.network if first or not self.shared_localhost else self.step_network
        args = ["run", "-d", "--name", planned.container, "--network", network]
        args += self._label_args()
        if network == self.network:
            for alias in planned.aliases:
                args += ["--network-alias", alias]
        if first and self.shared_localhost:  # CircleCI `name:`: every container of the
            # shared namespace (they share this one's /etc/hosts) finds it on localhost
            for other in self.planned:
                args += [f"--add-host={alias}:127.0.0.1" for alias in other.aliases]
        args += env_options(planned.env)
        args += list(service.options)
        command = list(service.command)
        if service.entrypoint is not None:
            entry = list(service.entrypoint)
            args += ["--entrypoint", entry[0] if entry else ""]
            command = [*entry[1:], *command]
        args += [planned.image.name, *command]
        env = docker_cli_env({**os.environ, **planned.env})
        proc = await asyncio.to_thread(_cli, args, env)
        if proc.returncode != 0:
            return f"service {planned.label} ({planned.image.name}) did not start: {_why(proc)}"
        started = _Started(planned, proc.stdout.decode().strip())
        self._started.append(started)
        started.follower = asyncio.create_task(self._follow(started))
        names = ", ".join(planned.aliases)
        where = f" as {names}" if names else ""
        if self.shared_localhost:
            where = f" on localhost ({names})" if names else " on localhost"
        self.log.note(f"service {planned.label}: started {planned.image.name}{where}")
        return None

    async def _follow(self, started: _Started) -> None:
        """The service's output into the job log, ``[<label>] `` in front of each line."""
        proc = await asyncio.create_subprocess_exec(
            "docker", "logs", "-f", started.id,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        assert proc.stdout is not None
        try:
            async for raw in proc.stdout:
                line = raw.decode(errors="replace").rstrip("\r\n")
                self.log.feed("service", f"[{started.planned.label}] {line}\n")
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()

    async def _status(self, started: _Started) -> _Status | None:
        fmt = "{{json .State}}\t{{json .NetworkSettings.Networks}}"
        proc = await asyncio.to_thread(docker_cli, "inspect", "--format", fmt, started.id)
        if proc is None or proc.returncode != 0:
            return None
        state_json, _, nets_json = proc.stdout.decode(errors="replace").partition("\t")
        try:
            state = json.loads(state_json) or {}
            nets = json.loads(nets_json) or {}
        except ValueError:
            return None
        health = state.get("Health") or {}
        checks = health.get("Log") or [{}]
        ips = tuple(n["IPAddress"] for n in nets.values() if n.get("IPAddress"))
        return _Status(
            bool(state.get("Running")),
            int(state.get("ExitCode") or 0),
            health.get("Status"),
            ips,
            str(checks[-1].get("Output") or "").strip(),
        )

    def _ports(self, planned: PlannedService) -> tuple[int, ...]:
        port = planned.env.get("HEALTHCHECK_TCP_PORT", "")
        if port.isdigit():
            return (int(port),)
        return planned.image.exposed_tcp

    async def _wait(self, started: _Started) -> str | None:
        planned = started.planned
        label = f"service {planned.label} ({planned.image.name})"
        ports = () if _remote_daemon() else self._ports(planned)
        pending = set(ports)
        ip_of = self._started[0] if self.shared_localhost else started
        began = time.monotonic()
        deadline = began + self.wait_timeout
        while True:
            status = await self._status(started)
            if status is None or not status.running:
                code = status.exit_code if status else "unknown"
                await self._show_last_lines(started)
                return f"{label} exited with code {code} before it was ready"
            if status.health == "unhealthy":
                await self._show_last_lines(started)
                said = f": {status.health_output.splitlines()[-1]}" if status.health_output else ""
                return f"{label} is unhealthy (its health check failed{said})"
            if pending:
                owner = status if ip_of is started else await self._status(ip_of)
                ips = owner.ips if owner else ()
                pending = {p for p in pending if not (ips and await _accepts(ips[0], p))}
            if not pending and status.health in (None, "healthy"):
                what = [f"{', '.join(map(str, ports))}/tcp accepting"] if ports else []
                what += [status.health] if status.health else []
                self.log.note(
                    f"service {planned.label}: ready after {time.monotonic() - began:.1f}s"
                    + (f" ({', '.join(what)})" if what else "")
                )
                return None
            if time.monotonic() > deadline:
                waiting = f"ports {sorted(pending)}" if pending else f"health {status.health}"
                self.log.note(
                    f"warning: {label} not ready after {self.wait_timeout:g}s "
                    f"(waiting for {waiting}); the job goes on"
                )
                return None
            await asyncio.sleep(_POLL)

    async def _show_last_lines(self, started: _Started) -> None:
        text = await asyncio.to_thread(_last_lines, started.id)
        self.log.note(f"service {started.planned.label}: its last log lines:")
        for line in text.splitlines()[-LAST_LINES:] or ["(no output)"]:
            self.log.note(f"  | {line}")

    # -- stop --------------------------------------------------------------------------

    async def stop(self) -> None:
        """Remove the service containers and the network (by ID); note what went.
        Runs to its end even when the job is being cancelled."""
        if self._stopped:
            return
        self._stopped = True
        task = asyncio.ensure_future(self._stop())
        cancelled = False
        while not task.done():  # a cancel (Ctrl-C) waits for the cleanup, then goes on
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError
        task.result()

    async def _stop(self) -> None:
        known = {s.planned.container for s in self._started}
        # a container whose `docker run` was cut off (timeout, Ctrl-C) has no ID here: its name
        ids = [s.id for s in self._started]
        ids += [p.container for p in self.planned if p.container not in known]
        gone = set(await asyncio.to_thread(remove_containers, ids))
        removed = [f"{s.planned.label} ({s.id[:12]})" for s in self._started if s.id in gone]
        for started in self._started:
            if started.follower is not None:
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(started.follower, timeout=10)
        network = self._network_id or self.network
        if await asyncio.to_thread(_remove_network, network):
            removed.append(f"network {self.network} ({network[:12]})")
        self.removed = removed
        if removed:
            self.log.note(f"services: removed {', '.join(removed)}")


def _cli(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["docker", *args], capture_output=True, timeout=120, check=False, env=dict(env)
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(args, 1, b"", str(exc).encode())


def _last_lines(container: str) -> str:
    """The end of a container's output, stdout and stderr in their order."""
    try:
        proc = subprocess.run(
            ["docker", "logs", "--tail", str(LAST_LINES), container],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout.decode(errors="replace")


def _why(proc: subprocess.CompletedProcess[bytes] | None) -> str:
    if proc is None:
        return "the docker CLI did not answer"
    lines = proc.stderr.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else f"exit {proc.returncode}"


def _remove_network(network: str) -> bool:
    """``docker network rm`` (retried briefly: a step container may still be detaching)."""
    for _ in range(20):
        proc = docker_cli("network", "rm", network, timeout=30.0)
        if proc is not None and proc.returncode == 0:
            return True
        if proc is None or b"not found" in proc.stderr:
            return False
        time.sleep(0.25)
    return False


async def _accepts(ip: str, port: int) -> bool:
    """Whether ``ip:port`` accepts a TCP connection now."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(ip, port), timeout=1.0)
    except (TimeoutError, OSError):
        return False
    writer.close()
    with contextlib.suppress(OSError, ConnectionError):
        await writer.wait_closed()
    return True
