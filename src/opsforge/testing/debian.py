"""Debian test hosts: real Debian 12 userlands with their own sshd and IP address.

::

    from opsforge.testing import DebianHosts

    with DebianHosts(tmp_path / "debian", 2) as hosts:
        # opsforge exec all -i hosts.inventory -- 'apt-get install -y hello'
        hosts.run_on_host("deb1", "hello")            # from the test side, no SSH

Each host is the cached debootstrap rootfs (:mod:`opsforge.testing.debian_cache`)
under a per-host overlay, with its own network namespace (``eth0`` at 10.213.X.2/30,
paired with a veth at 10.213.X.1 here: no route anywhere else), its own PID, mount,
UTS and IPC namespaces, and ``sshd`` listening on port 22. Root logs in with the
client key made under ``root``; the host key is generated per host. ``apt-get`` sees
only the local repository at ``/srv/repo``. There is no systemd: services run through
``/etc/init.d`` and ``service`` (see :mod:`opsforge.testing.debian_files`).

Needs root, overlayfs (else each host's root is a full copy), ``ip``, ``unshare``,
``nsenter`` and ``setpriv`` (iproute2, util-linux). Files under ``root``::

    client_ed25519{,.pub}   the key root on every host accepts
    hosts/debN/             host_ed25519, upper/ + work/ (the overlay), rootfs/, console.log
    inventory.yml           Ansible YAML inventory (all -> deb1..debN, groups odd/even)
    known_hosts, ssh_config as the local SSH lab writes them, with the hosts' addresses

The state of a run (namespaces, links, mounts, PIDs) is kept in
``/run/opsforge-test/debian-hosts/`` so a crashed run is cleaned up by the next.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from opsforge.testing import debian_ns as ns
from opsforge.testing import lab_files
from opsforge.testing.debian_cache import (
    DEFAULT_INCLUDE,
    DEFAULT_REPO_PACKAGES,
    DebianCache,
    DebianHostsError,
    ensure_cache,
)
from opsforge.testing.debian_files import BOOT, SERVICE_NAME, write_host_files
from opsforge.testing.lab import _children, _start_ticks
from opsforge.types import ConnectOptions, HostSpec

__all__ = ["DebianHost", "DebianHosts", "DebianHostsInfo", "debian_hosts_unavailable"]

READY_TIMEOUT = 20.0
SSH_PORT = 22
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True, slots=True)
class DebianHost:
    name: str
    address: str  # the host's eth0 (port 22)
    gateway: str  # this machine's end of the veth: what the host can reach
    netns: str
    veth: str
    rootfs: Path  # the host's / (overlay or copy), readable from the test side
    overlay: bool
    init_pid: int  # PID 1 of the host's PID namespace, as seen here
    pidns: str  # pid:[INODE]


@dataclass(frozen=True, slots=True)
class DebianHostsInfo(lab_files.HostFiles[DebianHost]):
    root: Path
    hosts: tuple[DebianHost, ...]
    cache: DebianCache
    user: str = "root"
    service: str = SERVICE_NAME  # an init.d service every host has (not started)
    state_file: Path = field(default=Path())

    @property
    def repo_packages(self) -> Mapping[str, tuple[str, ...]]:
        """Package -> versions (ascending) that ``apt-get`` on the hosts can install."""
        return self.cache.repo_packages

    def host_spec(self, name: str, **changes: object) -> HostSpec:
        host = self.host(name)
        return lab_files.host_spec(
            host.name, host.address, SSH_PORT, self.user, self.key_path, **changes
        )

    def host_specs(self) -> list[HostSpec]:
        return [self.host_spec(host.name) for host in self.hosts]

    def connect_options(self, **changes: object) -> ConnectOptions:
        """Strict host key checking against the hosts' known_hosts; no agent."""
        return lab_files.strict_options(self.known_hosts, self.ssh_config, **changes)

    def run_on_host(
        self,
        name: str,
        command: str,
        *,
        check: bool = False,
        timeout: float = 120.0,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``sh -c command`` as root inside host ``name`` (its namespaces and root), not over
        SSH: for setting up and asserting from the test side."""
        host = self.host(name)
        cmd = [
            *("setpriv", ns.cap_drop_arg(), "nsenter", "-t", str(host.init_pid)),
            *("-m", "-u", "-i", "-n", "-p", "-r", "-w", "--"),
            *("/usr/bin/env", "-i", f"PATH={PATH}", "HOME=/root", "LC_ALL=C"),
            *("/bin/sh", "-c", command),
        ]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, input=input, check=False
        )
        if check and proc.returncode:
            raise DebianHostsError(
                f"{name}: {command!r} exited {proc.returncode}: {proc.stderr.strip()}"
            )
        return proc

    def processes(self, name: str) -> list[int]:
        """PIDs (as seen here) of every process in host ``name``'s PID namespace."""
        return ns.pids_in(self.host(name).pidns)

    def pid_here(self, name: str, pid_inside: int) -> int | None:
        """The PID seen here of the process that host ``name`` sees as ``pid_inside`` (read
        from a pidfile, say), or None when there is none."""
        for pid in self.processes(name):
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{pid}/status").read_text()
                nspids = next(ln for ln in status.splitlines() if ln.startswith("NSpid:"))
                if int(nspids.split()[-1]) == pid_inside:
                    return pid
        return None


def debian_hosts_unavailable() -> str | None:
    """Why Debian test hosts cannot run on this machine, or None when they can (the rootfs
    cache has its own reasons: :class:`DebianCacheError`)."""
    if os.geteuid() != 0:
        return f"Debian test hosts need root (namespaces, mounts, veth); uid is {os.geteuid()}"
    missing = [t for t in ("ip", "unshare", "nsenter", "setpriv", "mount") if not shutil.which(t)]
    if missing:
        return f"{', '.join(missing)} not found (apt-get install iproute2 util-linux mount)"
    return None


def _check_tools() -> None:
    if reason := debian_hosts_unavailable():
        raise DebianHostsError(reason)


def _namespace_init(wrapper: int) -> int | None:
    """The PID (as seen here) of the process below ``wrapper`` that is PID 1 of a new PID
    namespace: ``unshare --fork``'s child, or the container's systemd below nspawn (which
    forks through a short-lived helper first)."""
    pending = _children(wrapper)
    while pending:
        pid = pending.pop()
        with contextlib.suppress(OSError, StopIteration):
            status = Path(f"/proc/{pid}/status").read_text()
            nspids = next(ln for ln in status.splitlines() if ln.startswith("NSpid:")).split()
            if len(nspids) > 2 and nspids[-1] == "1":
                return pid
        pending += _children(pid)
    return None


def _banner_ok(address: str) -> bool:
    try:
        with socket.create_connection((address, SSH_PORT), timeout=1.0) as sock:
            return sock.recv(64).startswith(b"SSH-")
    except OSError:
        return False


class DebianHosts:
    """N Debian test hosts. ``with DebianHosts(root, 2) as info: ...``."""

    def __init__(
        self,
        root: Path,
        n: int = 2,
        *,
        cache: DebianCache | None = None,
        include: Sequence[str] = DEFAULT_INCLUDE,
        repo_packages: Sequence[str] = DEFAULT_REPO_PACKAGES,
        prefix: str = "deb",
        init: str = "sysv",
    ) -> None:
        """``cache``: an already built rootfs (else :func:`ensure_cache` for ``include`` and
        ``repo_packages``, built on first use). ``init``: ``"sysv"`` (a shell init that
        starts sshd; services through /etc/init.d) or ``"systemd"`` (the rootfs's systemd
        booted by ``systemd-nspawn``)."""
        if init not in ("sysv", "systemd"):
            raise DebianHostsError(f"Debian test hosts: init is sysv or systemd, not {init!r}")
        if n < 1:
            raise DebianHostsError(f"Debian test hosts: at least one host, not {n}")
        self.root = Path(root).absolute()
        self.n = n
        self.cache = cache
        self.include = tuple(include)
        self.repo_packages = tuple(repo_packages)
        self.prefix = prefix
        self.init = init
        self.info: DebianHostsInfo | None = None
        self._state: ns.RunState | None = None
        self._state_file: Path | None = None
        self._procs: dict[int, subprocess.Popen[bytes]] = {}

    def __enter__(self) -> DebianHostsInfo:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def run_on_host(
        self, name: str, command: str, *, check: bool = False, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        """:meth:`DebianHostsInfo.run_on_host` of the running hosts."""
        if self.info is None:
            raise DebianHostsError("the Debian test hosts are not running")
        return self.info.run_on_host(name, command, check=check, timeout=timeout)

    def _plan(self) -> ns.RunState:
        """Record names, subnets and paths before anything is created (crash-safe)."""
        run_id = secrets.token_hex(2)
        with ns.registry_lock() as where:
            used = ns.used_indexes(where)
            free = [i for i in range(1, 255) if i not in used][: self.n]
            if len(free) < self.n:
                raise DebianHostsError(f"no free {ns.SUBNET}.X.0/30 subnets for {self.n} hosts")
            hosts = []
            for i, index in enumerate(free, 1):
                name = f"{self.prefix}{i}"
                hosts.append(
                    {
                        "name": name,
                        "index": index,
                        "netns": f"ofdeb-{run_id}-{i}",
                        "veth": f"ofd{run_id}h{i}",
                        "gateway": f"{ns.SUBNET}.{index}.1",
                        "address": f"{ns.SUBNET}.{index}.2",
                        "merged": str(lab_files.host_dir(self.root, name) / "rootfs"),
                        "overlay": None,
                    }
                )
            state: ns.RunState = {
                "owner_pid": os.getpid(),
                "owner_ticks": _start_ticks(os.getpid()),
                "root": str(self.root),
                "run_id": run_id,
                "hosts": hosts,
            }
            self._state_file = where / f"{run_id}.json"
            ns.write_state(self._state_file, state)
        return state

    def _save(self) -> None:
        assert self._state is not None
        assert self._state_file is not None
        ns.write_state(self._state_file, self._state)

    def _prepare(self, cache: DebianCache, host: ns.HostState, client: Path) -> None:
        hdir = lab_files.host_dir(self.root, host["name"])
        if os.path.exists(host["merged"]) and ns.mount_points().count(host["merged"]) == 0:
            shutil.rmtree(hdir)  # a stopped earlier run in the same root
        hdir.mkdir(parents=True, exist_ok=True)
        host_key = hdir / "host_ed25519"
        lab_files.ensure_key(host_key)
        host["overlay"] = True  # recorded before mounting: cleanup unmounts if it exists
        self._save()
        merged = Path(host["merged"])
        host["overlay"] = ns.mount_rootfs(cache.rootfs, hdir / "upper", hdir / "work", merged)
        self._save()
        write_host_files(
            merged,
            name=host["name"],
            address=host["address"],
            host_key=host_key,
            client_pub=client.with_name(client.name + ".pub"),
            systemd=self.init == "systemd",
        )

    def _launch(self, cache: DebianCache, host: ns.HostState) -> None:
        ns.create_link(host["netns"], host["veth"], host["gateway"], host["address"])
        console = lab_files.host_dir(self.root, host["name"]) / "console.log"
        if self.init == "systemd":
            # nspawn's own namespaces (PID, mount, UTS, IPC) inside the host's network one;
            # not under `ip netns exec`, whose fresh /sys has no cgroup hierarchy
            boot = [
                *("systemd-nspawn", "--quiet", "--boot", "--register=no", "--keep-unit"),
                f"--network-namespace-path=/run/netns/{host['netns']}",
                *("--directory", host["merged"], "--machine", host["netns"]),
                *("--hostname", host["name"], "--bind-ro", f"{cache.repo}:/srv/repo"),
            ]
        else:
            boot = [
                *("ip", "netns", "exec", host["netns"]),
                *("unshare", "--mount", "--uts", "--ipc", "--pid", "--fork"),
                *("--kill-child", "--propagation", "private"),
                *("/bin/sh", "-c", BOOT, "opsforge-boot", host["merged"]),
                *(str(cache.repo), host["name"], ns.cap_drop_arg()),
            ]
        with console.open("wb") as out:
            proc = subprocess.Popen(
                boot,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._procs[proc.pid] = proc
        host["wrapper_pid"], host["wrapper_ticks"] = proc.pid, _start_ticks(proc.pid)
        self._save()

    def _wait_ready(self, hosts: list[ns.HostState]) -> None:
        pending = {h["name"]: h for h in hosts}
        deadline = time.monotonic() + READY_TIMEOUT
        while pending:
            for name, host in list(pending.items()):
                proc = self._procs[host["wrapper_pid"]]
                if host.get("init_pid") is None and (init := _namespace_init(proc.pid)):
                    host["init_pid"], host["init_ticks"] = init, _start_ticks(init)
                    host["pidns"] = ns.pidns_of(init)
                    self._save()
                if proc.poll() is not None:
                    console = lab_files.host_dir(self.root, name) / "console.log"
                    raise DebianHostsError(
                        f"{name} exited ({proc.returncode}) while starting: "
                        + console.read_text(errors="replace").strip()
                    )
                if host.get("pidns") and _banner_ok(host["address"]):
                    del pending[name]
            if pending and time.monotonic() > deadline:
                late = sorted(pending)
                raise DebianHostsError(f"sshd did not come up in {READY_TIMEOUT:g}s: {late}")
            if pending:
                time.sleep(0.02)

    def start(self) -> DebianHostsInfo:
        """Start every host and wait until each one's sshd answers; write the lab files."""
        _check_tools()
        if self.init == "systemd" and not shutil.which("systemd-nspawn"):
            raise DebianHostsError(
                "systemd test hosts need systemd-nspawn (apt-get install systemd-container)"
            )
        cache = self.cache or ensure_cache(include=self.include, repo_packages=self.repo_packages)
        ns.cleanup_leftovers()
        self.root.mkdir(parents=True, exist_ok=True)
        client = self.root / "client_ed25519"
        lab_files.ensure_key(client)
        self._state = state = self._plan()
        try:
            for host in state["hosts"]:
                self._prepare(cache, host, client)
            for host in state["hosts"]:
                self._launch(cache, host)
            self._wait_ready(state["hosts"])
        except BaseException:
            self.stop()
            raise
        assert self._state_file is not None
        hosts = tuple(
            DebianHost(
                name=h["name"],
                address=h["address"],
                gateway=h["gateway"],
                netns=h["netns"],
                veth=h["veth"],
                rootfs=Path(h["merged"]),
                overlay=bool(h["overlay"]),
                init_pid=int(h["init_pid"]),
                pidns=str(h["pidns"]),
            )
            for h in state["hosts"]
        )
        self.info = DebianHostsInfo(self.root, hosts, cache, state_file=self._state_file)
        self._write_files(self.info)
        if self.init == "systemd":
            for host in hosts:  # sshd answers before boot finished: wait for the rest
                self.info.run_on_host(host.name, "systemctl is-system-running --wait >/dev/null")
        return self.info

    def _write_files(self, info: DebianHostsInfo) -> None:
        keys = [
            (SSH_PORT, lab_files.ensure_key(lab_files.host_dir(self.root, h.name) / "host_ed25519"))
            for h in info.hosts
        ]
        pairs = [(h.name, SSH_PORT) for h in info.hosts]
        addresses = [h.address for h in info.hosts]
        user, key, known = info.user, info.key_path, info.known_hosts
        lab_files.write_known_hosts(known, keys, addresses=addresses)
        for write, path in (
            (lab_files.write_inventory, info.inventory),
            (lab_files.write_ssh_config, info.ssh_config),
        ):
            write(path, pairs, user=user, key=key, known_hosts=known, addresses=addresses)

    def stop(self) -> None:
        """Stop every process, unmount, delete links and namespaces; forget the state file."""
        if self._state is None:
            return
        # on failure the state file stays: the next run's cleanup_leftovers() retries
        ns.teardown(self._state, self._procs)
        if self._state_file is not None:
            self._state_file.unlink(missing_ok=True)
        self._state = self._state_file = self.info = None
        self._procs.clear()
