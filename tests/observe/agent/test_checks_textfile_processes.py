"""Checks against real local servers, the textfile collector on real files, process groups
on real processes."""

from __future__ import annotations

import datetime as dt
import os
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from prometheus_client.parser import text_string_to_metric_families

from observe.servers import free_port
from opsforge.observe.agent import Agent, load_config, render
from opsforge.observe.agent.collectors.textfile import TextfileError, parse_text_format


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = int(self.path.strip("/") or 200)
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def _serve(server: ThreadingHTTPServer) -> Iterator[int]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def http_port() -> Iterator[int]:
    yield from _serve(ThreadingHTTPServer(("127.0.0.1", 0), _Handler))


def _self_signed(tmp: Path, days: int) -> tuple[Path, Path, float]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    not_after = now + dt.timedelta(days=days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, not_after.timestamp()


@pytest.fixture(scope="module")
def https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, float]]:
    cert, key, not_after = _self_signed(tmp_path_factory.mktemp("tls"), days=10)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    for port in _serve(server):
        yield port, not_after


def _scrape(config_text: str, tmp: Path) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    path = tmp / "agent.yml"
    path.write_text(config_text)
    text = render(Agent(load_config(path)).collect()).decode()
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_checks_report_up_duration_and_their_own_values(
    tmp_path: Path, http_port: int, https: tuple[int, float]
) -> None:
    tls_port, not_after = https
    closed = free_port()
    old = tmp_path / "old"
    old.write_text("x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    config = f"""\
collectors: {{enable: [checks]}}
checks:
  - {{name: web, kind: http, url: 'http://127.0.0.1:{http_port}/200'}}
  - {{name: web500, kind: http, url: 'http://127.0.0.1:{http_port}/503'}}
  - {{name: web-closed, kind: http, url: 'http://127.0.0.1:{closed}/', timeout: 2}}
  - {{name: web-tls-unverified, kind: http, url: 'https://127.0.0.1:{tls_port}/200',
     verify_tls: false}}
  - {{name: web-tls-verified, kind: http, url: 'https://127.0.0.1:{tls_port}/200'}}
  - {{name: port, kind: tcp, address: '127.0.0.1:{http_port}'}}
  - {{name: port-closed, kind: tcp, address: '127.0.0.1:{closed}', timeout: 2}}
  - {{name: cert, kind: tls, address: '127.0.0.1:{tls_port}', min_days: 5}}
  - {{name: cert-soon, kind: tls, address: '127.0.0.1:{tls_port}', min_days: 30}}
  - {{name: ok, kind: command, command: '{sys.executable} -c "raise SystemExit(0)"'}}
  - {{name: bad, kind: command, command: ['{sys.executable}', '-c', 'raise SystemExit(3)']}}
  - {{name: slow, kind: command, command: 'sleep 5', timeout: 0.3}}
  - {{name: fresh, kind: file_age, path: '{old}', max_age: 86400}}
  - {{name: stale, kind: file_age, path: '{old}', max_age: 60}}
  - {{name: gone, kind: file_age, path: '{tmp_path / "missing"}'}}
"""
    found = _scrape(config, tmp_path)
    up = {dict(k)["check"]: v for k, v in found["opsforge_check_up"].items()}
    assert up == {
        "web": 1, "web500": 0, "web-closed": 0, "web-tls-unverified": 1, "web-tls-verified": 0,
        "port": 1, "port-closed": 0, "cert": 1, "cert-soon": 0, "ok": 1, "bad": 0, "slow": 0,
        "fresh": 1, "stale": 0, "gone": 0,
    }  # fmt: skip
    kinds = {dict(k)["check"]: dict(k)["kind"] for k in found["opsforge_check_duration_seconds"]}
    assert kinds["cert"] == "tls"
    assert kinds["fresh"] == "file_age"
    status = {dict(k)["check"]: v for k, v in found["opsforge_check_http_status_code"].items()}
    assert status == {"web": 200, "web500": 503, "web-tls-unverified": 200}
    expiry = {
        dict(k)["check"]: v for k, v in found["opsforge_check_tls_cert_not_after_seconds"].items()
    }
    assert abs(expiry["cert"] - not_after) < 2
    exits = {dict(k)["check"]: v for k, v in found["opsforge_check_command_exit_status"].items()}
    assert exits == {"ok": 0, "bad": 3}
    ages = {dict(k)["check"]: v for k, v in found["opsforge_check_file_age_seconds"].items()}
    assert 7100 < ages["fresh"] < 7300


TEXTFILE_CASES = [
    ("# TYPE a counter\na_total 1\n", None),
    ('a{x="1",y="q\\"uote"} 2\n', None),
    ("a 1 1700000000\n", "timestamps are not allowed"),
    ("a{x=1} 1\n", "malformed label set"),
    ("a nope\n", "bad sample value"),
    ("# TYPE a strange\n", "unknown metric type"),
    ("a 1\n# TYPE a gauge\n", "after its samples"),
    ("1a 2\n", "expected a metric name"),
]


@pytest.mark.parametrize(("text", "error"), TEXTFILE_CASES)
def test_textfile_parser(text: str, error: str | None) -> None:
    if error is None:
        assert parse_text_format(text)
    else:
        with pytest.raises(TextfileError, match=error):
            parse_text_format(text)


def test_textfile_collector_serves_good_files_and_flags_bad_ones(tmp_path: Path) -> None:
    directory = tmp_path / "prom"
    directory.mkdir()
    (directory / "backup.prom").write_text(
        "# HELP backup_last_success_seconds Last good backup.\n"
        "# TYPE backup_last_success_seconds gauge\n"
        'backup_last_success_seconds{job="db"} 1.7e9\n'
        "# TYPE req_seconds histogram\n"
        'req_seconds_bucket{le="1"} 3\nreq_seconds_bucket{le="+Inf"} 4\n'
        "req_seconds_sum 2.5\nreq_seconds_count 4\n"
    )
    (directory / "ignored.txt").write_text("not read 1\n")
    found = _scrape(
        f"collectors: {{enable: [textfile]}}\ntextfile: {{directory: '{directory}'}}\n", tmp_path
    )
    assert found["backup_last_success_seconds"] == {(("job", "db"),): 1.7e9}
    assert found["req_seconds_count"] == {(): 4}
    assert found["node_textfile_scrape_error"] == {(): 0}
    assert list(found["node_textfile_mtime_seconds"]) == [
        (("file", str(directory / "backup.prom")),)
    ]
    (directory / "broken.prom").write_text("ok_metric 1\nbroken{ 2\n")
    found = _scrape(
        f"collectors: {{enable: [textfile]}}\ntextfile: {{directory: '{directory}'}}\n", tmp_path
    )
    assert found["node_textfile_scrape_error"] == {(): 1}
    assert "ok_metric" not in found  # a broken file is left out whole
    assert found["backup_last_success_seconds"]


def test_process_groups(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "opsforge-test-marker"]
    )
    pidfile = tmp_path / "child.pid"
    pidfile.write_text(f"{child.pid}\n")
    try:
        config = f"""\
collectors: {{enable: [processes]}}
processes:
  - {{name: marker, cmdline: 'opsforge-test-marker'}}
  - {{name: byfile, pidfile: '{pidfile}'}}
  - {{name: none, exe: no-such-process-name}}
  - {{name: stale, pidfile: '{tmp_path / "missing.pid"}'}}
"""
        found = _scrape(config, tmp_path)
    finally:
        child.kill()
        child.wait()
    counts = {dict(k)["group"]: v for k, v in found["opsforge_process_count"].items()}
    assert counts == {"marker": 1, "byfile": 1, "none": 0, "stale": 0}
    rss = {dict(k)["group"]: v for k, v in found["opsforge_process_resident_memory_bytes"].items()}
    assert rss["marker"] > 1_000_000
    starts = {dict(k)["group"]: v for k, v in found["opsforge_process_start_time_seconds"].items()}
    assert abs(starts["byfile"] - time.time()) < 120
