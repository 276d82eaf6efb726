"""``opsforge agent serve`` as a real process: content negotiation, gzip, errors, signals."""

from __future__ import annotations

import gzip
import signal
import socket
import subprocess
import time
import urllib.error
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families

from observe.servers import ServerProcess, free_port, http_get, opsforge_argv


def test_text_format_by_default(agent_url: str) -> None:
    with http_get(agent_url) as response:
        assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert response.headers.get("Content-Encoding") is None
        text = response.read().decode()
    names = {f.name for f in text_string_to_metric_families(text)}
    assert {
        "node_cpu_seconds",
        "node_uname_info",
        "opsforge_agent_scrape_duration_seconds",
    } <= names


def test_openmetrics_when_asked_as_prometheus_asks(agent_url: str) -> None:
    accept = (
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
        "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    )
    with http_get(agent_url, {"Accept": accept}) as response:
        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        text = response.read().decode()
    assert text.endswith("# EOF\n")
    families = {f.name: f for f in parse_openmetrics(text)}  # strict parser: raises on errors
    assert families["node_cpu_seconds"].type == "counter"
    assert families["node_memory_MemTotal_bytes"].type == "gauge"


def test_gzip_when_accepted(agent_url: str) -> None:
    with http_get(agent_url, {"Accept-Encoding": "gzip"}) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        body = response.read()
    assert b"node_load1 " in gzip.decompress(body)


def test_other_paths(agent_url: str) -> None:
    base = agent_url.rsplit("/", 1)[0]
    with http_get(base + "/") as response:
        assert b"/metrics" in response.read()
    with http_get(base + "/-/healthy") as response:
        assert response.status == 200
    with pytest.raises(urllib.error.HTTPError) as info:
        http_get(base + "/nope")
    assert info.value.code == 404


def _run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(opsforge_argv(*args), capture_output=True, text=True, timeout=timeout)


def test_listen_address_in_use_is_a_usage_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _run("agent", "serve", "--listen", f"127.0.0.1:{port}")
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_malformed_listen_address() -> None:
    done = _run("agent", "serve", "--listen", "localhost")
    assert done.returncode == 2
    assert "HOST:PORT" in done.stderr


def test_sigterm_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    server = ServerProcess(
        opsforge_argv("agent", "serve", "--listen", f"127.0.0.1:{port}"), tmp_path / "log", url
    ).wait_ready()
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(10) == 0
    assert "agent: stopped" in server.output()
    server.stop()
    with pytest.raises(OSError, match="refused"):
        http_get(url, timeout=2)


def test_scrape_command_prints_one_exposition() -> None:
    done = _run("agent", "scrape")
    assert done.returncode == 0, done.stderr
    assert "# TYPE node_cpu_seconds_total counter" in done.stdout
    started = time.time()
    done = _run("agent", "scrape", "--openmetrics")
    assert done.stdout.endswith("# EOF\n")
    assert time.time() - started < 30
