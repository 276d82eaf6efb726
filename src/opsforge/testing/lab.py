"""A local SSH lab: N real OpenSSH ``sshd`` processes on 127.0.0.1.

Each lab host is one ``sshd -D`` with its own host key, config, port and log,
accepting the lab's client key for the user running the lab (any user when
the lab runs as root). The state is kept in ``<root>/pids.json`` so one process
can start the lab (:func:`lab_up`) and another stop it (:func:`lab_down`).
Processes are stopped by their recorded PID — checked against the recorded
process start time, so a reused PID is never signalled — never by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from opsforge.errors import OpsforgeError
from opsforge.testing import lab_files
from opsforge.types import ConnectOptions, HostSpec

__all__ = ["LabError", "LabHost", "LabInfo", "SSHLab", "lab_down", "lab_status", "lab_up"]

STATE_FILE = "pids.json"
#: the host variable naming a host's sshd_config (what ``opsforge audit``/``harden`` read)
SSHD_CONFIG_VAR = "opsforge_sshd_config"
READY_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
_START_ATTEMPTS = 3


class LabError(OpsforgeError):
    """The SSH lab could not be started or its state is unusable."""


@dataclass(frozen=True, slots=True)
class LabHost:
    name: str
    port: int
    pid: int
    start_ticks: int  # /proc/PID/stat field 22: tells our sshd from a reused PID
    started_at: float
    running: bool = True


@dataclass(frozen=True, slots=True)
class LabInfo(lab_files.HostFiles[LabHost]):
    root: Path
    user: str
    hosts: tuple[LabHost, ...]

    def sshd_config_path(self, name: str) -> Path:
        """The sshd_config of lab host ``name`` (sshd rereads it on SIGHUP)."""
        return lab_files.host_dir(self.root, self.host(name).name) / "sshd_config"

    def host_spec(self, name: str, **changes: object) -> HostSpec:
        """The host's HostSpec; its vars name its sshd_config (``opsforge_sshd_config``)."""
        host = self.host(name)
        changes.setdefault("vars", {SSHD_CONFIG_VAR: str(self.sshd_config_path(name))})
        return lab_files.host_spec(
            host.name, lab_files.LOOPBACK, host.port, self.user, self.key_path, **changes
        )

    def host_specs(self) -> list[HostSpec]:
        return [self.host_spec(host.name) for host in self.hosts]

    def connect_options(self, **changes: object) -> ConnectOptions:
        """Strict host key checking against the lab's known_hosts; no agent; no ~/.ssh/config."""
        return lab_files.strict_options(self.known_hosts_path, self.ssh_config_path, **changes)


def _sshd_path() -> str:
    found = shutil.which("sshd") or shutil.which("sshd", path="/usr/sbin:/usr/local/sbin:/sbin")
    if not found:
        raise LabError(
            "sshd not found: install it with `apt-get install openssh-server` (Debian/Ubuntu)"
        )
    return found


def _start_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] == "Z":
        return None  # exited, waiting to be reaped
    return int(fields[19])


def _children(pid: int) -> list[int]:
    """PIDs whose parent is ``pid`` (an sshd listener's per-connection processes)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((lab_files.LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _banner_ok(port: int) -> bool:
    try:
        with socket.create_connection((lab_files.LOOPBACK, port), timeout=1.0) as sock:
            return sock.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def _user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


class SSHLab:
    """N sshd processes on loopback. ``with SSHLab(root, 3) as info: ...``."""

    def __init__(
        self,
        root: Path,
        n: int,
        *,
        base_port: int | None = None,
        sshd_options: Mapping[str, str] | None = None,
        host_options: Mapping[str, Mapping[str, str]] | None = None,
        extra_host_keys: Sequence[str] = (),
    ) -> None:
        """``sshd_options`` replace or add sshd_config options of every host,
        ``host_options`` those of one host (by name: lab1, ...; an empty value drops
        an option); ``extra_host_keys`` are more host key types every host gets
        besides ed25519 (``"ecdsa-sha2-nistp256"``, ``"ssh-rsa"``)."""
        if n < 1:
            raise LabError(f"a lab needs at least one host, not {n}")
        self.root = Path(root).absolute()
        self.n = n
        self.base_port = base_port
        self.sshd_options = dict(sshd_options or {})
        self.host_options = {k: dict(v) for k, v in (host_options or {}).items()}
        self.extra_host_keys = tuple(extra_host_keys)
        self._procs: dict[int, subprocess.Popen[bytes]] = {}
        self.info: LabInfo | None = None

    def __enter__(self) -> LabInfo:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _prepare(self) -> list[str]:
        """Directories, keys and the parts every host shares; the host names."""
        sshd_needs = Path("/run/sshd")
        if os.geteuid() == 0 and not sshd_needs.exists():
            sshd_needs.mkdir(mode=0o755, parents=True)  # sshd's privilege separation dir
        for path in (self.root, self.root / "home", self.root / "hosts"):
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(0o755)  # other users' sshd sessions read the .pub through it
        lab_files.ensure_key(self.root / "client_ed25519")
        return [f"lab{i}" for i in range(1, self.n + 1)]

    def _launch(self, sshd: str, name: str, port: int) -> subprocess.Popen[bytes]:
        hdir = lab_files.host_dir(self.root, name)
        hdir.mkdir(parents=True, exist_ok=True)
        lab_files.ensure_key(hdir / "host_ed25519")
        extra_keys = []
        for alg in self.extra_host_keys:
            path = hdir / f"host_{alg.replace('-', '_')}"
            lab_files.ensure_key(path, alg)
            extra_keys.append(path)
        conf = hdir / "sshd_config"
        conf.write_text(
            lab_files.sshd_config_text(
                port=port,
                host_key=hdir / "host_ed25519",
                pid_file=hdir / "sshd.pid",
                authorized_keys=self.root / "client_ed25519.pub",
                home=self.root / "home",
                as_root=os.geteuid() == 0,
                overrides={**self.sshd_options, **self.host_options.get(name, {})},
                extra_host_keys=extra_keys,
            )
        )
        log = hdir / "sshd.log"
        log.write_bytes(b"")
        return subprocess.Popen(
            [sshd, "-D", "-f", str(conf), "-E", str(log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C in the terminal does not reach the lab
        )

    def _port(self, index: int) -> int:
        return self.base_port + index if self.base_port is not None else _free_port()

    def start(self) -> LabInfo:
        """Start every host, wait until each sends its SSH banner, write the lab files."""
        sshd = _sshd_path()
        names = self._prepare()
        ports = {name: self._port(i) for i, name in enumerate(names, 1)}
        pending = {name: self._launch(sshd, name, ports[name]) for name in names}
        self._procs.update({p.pid: p for p in pending.values()})
        attempts = dict.fromkeys(names, 1)
        started: dict[str, tuple[subprocess.Popen[bytes], float]] = {}
        deadline = time.monotonic() + READY_TIMEOUT
        try:
            while pending:
                for name, proc in list(pending.items()):
                    if _banner_ok(ports[name]) and proc.poll() is None:
                        started[name] = (proc, time.time())
                        del pending[name]
                    elif proc.poll() is not None:
                        log = (lab_files.host_dir(self.root, name) / "sshd.log").read_text()
                        retry = self.base_port is None and attempts[name] < _START_ATTEMPTS
                        if not retry or "Address already in use" not in log:
                            raise LabError(f"sshd for {name} (port {ports[name]}) exited: {log}")
                        attempts[name] += 1
                        ports[name] = _free_port()
                        pending[name] = self._launch(sshd, name, ports[name])
                        self._procs[pending[name].pid] = pending[name]
                if pending and time.monotonic() > deadline:
                    raise LabError(f"sshd did not come up in {READY_TIMEOUT:g}s: {sorted(pending)}")
                if pending:
                    time.sleep(0.02)
        except BaseException:
            self._stop_pids(list(self._procs))
            raise
        hosts = tuple(
            LabHost(name, ports[name], proc.pid, _start_ticks(proc.pid) or 0, at)
            for name, (proc, at) in ((n, started[n]) for n in names)
        )
        self.info = LabInfo(self.root, _user(), hosts)
        self._write_files(self.info)
        return self.info

    def _write_files(self, info: LabInfo) -> None:
        host_keys = [
            (h.port, lab_files.ensure_key(lab_files.host_dir(self.root, h.name) / "host_ed25519"))
            for h in info.hosts
        ]
        pairs = [(h.name, h.port) for h in info.hosts]
        user, key, known = info.user, info.key_path, info.known_hosts_path
        lab_files.write_known_hosts(known, host_keys)
        configs = {
            h.name: {SSHD_CONFIG_VAR: str(info.sshd_config_path(h.name))} for h in info.hosts
        }
        lab_files.write_inventory(
            info.inventory_path, pairs, user=user, key=key, known_hosts=known, host_vars=configs
        )
        lab_files.write_ssh_config(
            info.ssh_config_path, pairs, user=user, key=key, known_hosts=known
        )
        state = {
            "user": info.user,
            "hosts": [
                {
                    "name": h.name,
                    "port": h.port,
                    "pid": h.pid,
                    "start_ticks": h.start_ticks,
                    "started_at": h.started_at,
                }
                for h in info.hosts
            ],
        }
        (self.root / STATE_FILE).write_text(json.dumps(state, indent=1) + "\n")

    def _stop_pids(self, pids: list[int]) -> int:
        return _stop(pids, self._procs)

    def stop(self) -> int:
        """Stop the hosts this lab started (or that its state file records)."""
        stopped = lab_down(self.root, _procs=self._procs)
        self._procs.clear()
        self.info = None
        return stopped


def _stop(pids: list[int], procs: dict[int, subprocess.Popen[bytes]]) -> int:
    """TERM each PID (and its direct children), wait, KILL what is left. Returns how many."""
    targets = [pid for pid in pids if _start_ticks(pid) is not None]
    targets += [child for pid in targets for child in _children(pid)]
    for pid in targets:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    alive = set(targets)
    while alive and time.monotonic() < deadline:
        for pid in list(alive):
            if (pid in procs and procs[pid].poll() is not None) or _start_ticks(pid) is None:
                alive.discard(pid)
        if alive:
            time.sleep(0.02)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in pids:
        if pid in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                procs[pid].wait(STOP_TIMEOUT)
    return len([pid for pid in pids if pid in targets])


def _load(root: Path) -> LabInfo | None:
    try:
        state = json.loads((Path(root) / STATE_FILE).read_text())
        hosts = tuple(
            LabHost(
                h["name"],
                int(h["port"]),
                int(h["pid"]),
                int(h["start_ticks"]),
                float(h["started_at"]),
                running=_start_ticks(int(h["pid"])) == int(h["start_ticks"]),
            )
            for h in state["hosts"]
        )
        return LabInfo(Path(root).absolute(), str(state["user"]), hosts)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LabError(f"unreadable lab state {Path(root) / STATE_FILE}: {exc}") from None


def lab_status(root: Path) -> LabInfo | None:
    """The lab recorded at ``root`` (each host's ``running`` checked), or None."""
    return _load(root)


def lab_down(root: Path, *, _procs: dict[int, subprocess.Popen[bytes]] | None = None) -> int:
    """Stop every running host of the lab at ``root``; returns how many were stopped."""
    info = _load(root)
    if info is None:
        return 0
    stopped = _stop([h.pid for h in info.hosts if h.running], _procs or {})
    (Path(root) / STATE_FILE).unlink(missing_ok=True)
    return stopped


def lab_up(root: Path, n: int) -> LabInfo:
    """Start an ``n``-host lab at ``root`` that outlives this process (or keep a running one)."""
    info = lab_status(root)
    if info is not None and len(info.hosts) == n and all(h.running for h in info.hosts):
        return info
    lab_down(root)
    return SSHLab(root, n).start()
