"""Real servers for the observe tests: started on 127.0.0.1 free ports, PIDs recorded,
stopped by PID (SIGTERM, then SIGKILL), their output kept for failure messages."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "ServerProcess",
    "free_port",
    "http_get",
    "need_binary",
    "prometheus_query",
    "start_prometheus",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def need_binary(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if path is None:
        pytest.skip(f"{name} not installed (scripts/bootstrap.sh installs it)")
    return path


def http_get(url: str, headers: dict[str, str] | None = None, timeout: float = 10) -> Any:
    request = urllib.request.Request(url, headers=headers or {})
    return urllib.request.urlopen(request, timeout=timeout)


class ServerProcess:
    """One server process; ``ready_url`` is polled until it answers 200."""

    def __init__(
        self, argv: list[str], log: Path, ready_url: str, env: dict[str, str] | None = None
    ):
        self.argv = argv
        self.log_path = log
        self.ready_url = ready_url
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(os.environ, **(env or {})),
            start_new_session=True,
        )
        self.pid = self.proc.pid

    def wait_ready(self, timeout: float = 30.0) -> ServerProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.argv[0]} exited {self.proc.returncode}: {self.output()}"
                )
            try:
                with http_get(self.ready_url, timeout=2) as response:
                    if response.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.argv[0]} not ready after {timeout}s: {self.output()}")

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode


def opsforge_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "opsforge", *args]


def prometheus_query(base: str, expr: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Poll an instant query until it returns a non-empty vector (scrapes take a moment)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with http_get(url) as response:
            last = json.load(response)
        assert last["status"] == "success", last
        if last["data"]["result"]:
            return list(last["data"]["result"])
        time.sleep(0.5)
    raise AssertionError(f"no result for {expr!r} within {timeout}s: {last}")


def start_prometheus(
    tmp: Path, config: str, ready_timeout: float = 60
) -> tuple[ServerProcess, str]:
    """The Debian Prometheus with ``config`` (YAML text; relative rule files are next to it),
    its own data dir under ``tmp``; returns the process and its base URL."""
    binary = need_binary("prometheus")
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "prometheus.yml").write_text(config)
    port = free_port()
    argv = [
        binary,
        f"--config.file={tmp / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp / 'prom-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    base = f"http://127.0.0.1:{port}"
    server = ServerProcess(argv, tmp / "prometheus.log", f"{base}/-/ready")
    return server.wait_ready(ready_timeout), base
