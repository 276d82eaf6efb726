"""Shipping against a loopback server that enforces the Elasticsearch and Loki protocols.

Lines are counted in (the file) and out (what the server stored) across partial
failures, back-pressure, outages and restarts: none lost, none stored twice in
Elasticsearch (ids from file positions), at least once in Loki.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsforge.observe.logs.shipper import Backoff, Shipper
from opsforge.observe.logs.sinks import ElasticsearchSink, LokiSink, ShipError
from opsforge.observe.logs.spool import Spool

from .protocol_server import ProtocolServer


@pytest.fixture
def server() -> Iterator[ProtocolServer]:
    srv = ProtocolServer().start()
    yield srv
    srv.stop()


def _write_log(path: Path, start: int, count: int, *, hosts: int = 2) -> None:
    with path.open("a") as out:
        for i in range(start, start + count):
            stamp = f"Mar  1 08:{i // 60 % 60:02d}:{i % 60:02d}"
            out.write(f"{stamp} host{i % hosts} app[{i}]: event number {i}\n")


def _messages(server: ProtocolServer) -> list[str]:
    return sorted(doc["message"] for doc in server.docs.values())


def _shipper(tmp_path: Path, sink: ElasticsearchSink | LokiSink, **kw: object) -> Shipper:
    return Shipper(Spool(tmp_path / "spool"), sink, backoff=Backoff(0.01, 0.05), **kw)  # type: ignore[arg-type]


def test_elasticsearch_every_line_once(tmp_path: Path, server: ProtocolServer) -> None:
    log = tmp_path / "app.log"
    _write_log(log, 0, 1200)
    shipper = _shipper(tmp_path, ElasticsearchSink(server.url, "logs-test"), batch=250)
    assert shipper.ingest(str(log)) == 1200
    shipper.drain()
    assert shipper.stats.delivered == 1200
    assert _messages(server) == sorted(f"event number {i}" for i in range(1200))
    assert set(server.creates_per_id.values()) == {1}
    assert all(status == 200 for _, status in server.requests)
    assert len(server.requests) == 5
    doc = next(iter(server.docs.values()))
    assert doc["host.name"].startswith("host")
    assert doc["process.name"] == "app"
    assert "log.offset" in doc
    assert "_id" not in doc


def test_only_failed_items_are_resent_and_refused_ones_dead_lettered(
    tmp_path: Path, server: ProtocolServer
) -> None:
    server.item_429 = 0.3
    log = tmp_path / "app.log"
    _write_log(log, 0, 500)
    with log.open("a") as out:
        out.write("Mar  1 09:00:00 host0 app[1]: POISON value that fails the mapping\n")
    server.poison = "POISON"
    shipper = _shipper(tmp_path, ElasticsearchSink(server.url, "logs-test"), batch=100)
    shipper.ingest(str(log))
    shipper.drain()
    assert len(server.docs) == 500
    assert max(server.creates_per_id.values()) == 1  # nothing accepted was sent again
    assert shipper.stats.delivered == 500
    assert shipper.stats.dead_lettered == 1
    (dead,) = (tmp_path / "spool" / "dead-letter.ndjson").read_text().splitlines()
    assert "HTTP 400" in json.loads(dead)["reason"]
    assert not shipper.spool.pending()


def test_back_pressure_and_outage_then_recovery(tmp_path: Path, server: ProtocolServer) -> None:
    log = tmp_path / "app.log"
    _write_log(log, 0, 300)
    server.outage = True
    shipper = _shipper(tmp_path, ElasticsearchSink(server.url, "logs-test"), batch=100, max_wait=30)
    shipper.ingest(str(log))
    worker = threading.Thread(target=shipper.drain)
    worker.start()
    time.sleep(0.5)
    assert server.docs == {}
    server.outage = False
    server.throttle = 3
    worker.join(20)
    assert not worker.is_alive()
    assert len(server.docs) == 300
    statuses = [status for _, status in server.requests]
    assert 503 in statuses
    assert statuses.count(429) == 3
    assert shipper.stats.retries >= 4


def test_target_down_then_back_on_the_same_port(tmp_path: Path, server: ProtocolServer) -> None:
    log = tmp_path / "app.log"
    _write_log(log, 0, 200)
    port = server.port
    server.stop()
    shipper = _shipper(tmp_path, ElasticsearchSink(server.url, "logs-test"), batch=50, max_wait=30)
    shipper.ingest(str(log))
    worker = threading.Thread(target=shipper.drain)
    worker.start()
    time.sleep(0.5)
    revived = ProtocolServer(port).start()
    try:
        worker.join(20)
        assert not worker.is_alive()
        assert len(revived.docs) == 200
    finally:
        revived.stop()


def test_unreachable_past_max_wait_keeps_the_spool(tmp_path: Path, server: ProtocolServer) -> None:
    log = tmp_path / "app.log"
    _write_log(log, 0, 50)
    server.outage = True
    shipper = _shipper(tmp_path, ElasticsearchSink(server.url, "logs-test"), max_wait=0.3)
    shipper.ingest(str(log))
    with pytest.raises(ShipError, match="gave up"):
        shipper.drain()
    assert shipper.spool.pending()
    server.outage = False
    again = _shipper(tmp_path, ElasticsearchSink(server.url, "logs-test"))
    assert again.ingest(str(log)) == 0  # already buffered: not read twice
    again.drain()
    assert len(server.docs) == 50


def test_refused_requests_are_errors_not_retries(tmp_path: Path, server: ProtocolServer) -> None:
    log = tmp_path / "app.log"
    _write_log(log, 0, 5)
    shipper = _shipper(tmp_path, ElasticsearchSink(server.url + "/no/such", "x"))
    shipper.ingest(str(log))
    with pytest.raises(ShipError, match="HTTP 404"):
        shipper.drain()


def test_loki_push(tmp_path: Path, server: ProtocolServer) -> None:
    log = tmp_path / "app.log"
    _write_log(log, 0, 600, hosts=3)
    server.throttle = 2
    shipper = _shipper(tmp_path, LokiSink(server.url, {"env": "test"}), batch=200)
    shipper.ingest(str(log))
    shipper.drain()
    assert len(server.loki) == 600
    streams = {labels for labels, _, _ in server.loki}
    assert len(streams) == 3
    for labels in streams:
        names = dict(labels)
        assert names["job"] == "opsforge"
        assert names["env"] == "test"
        assert names["level"] == "unknown"
        assert names["filename"] == str(log)
    lines = sorted(line for _, _, line in server.loki)
    assert lines[0].startswith("Mar  1 08:00:00 host0 app[0]: event number 0")
    assert [s for _, s in server.requests].count(429) == 2


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_protocol_server_rejects_malformed_bodies(server: ProtocolServer) -> None:
    bulk = server.url + "/_bulk"
    ndjson = {"Content-Type": "application/x-ndjson"}
    good = b'{"create":{"_index":"i","_id":"1"}}\n{"message":"x"}\n'
    assert _post(bulk, good, ndjson) == 200
    assert _post(bulk, good[:-1], ndjson) == 400  # no trailing newline
    assert _post(bulk, good, {"Content-Type": "application/json"}) == 406
    assert _post(bulk, b'{"create":{"_index":"i"}}\n', ndjson) == 400  # no document
    assert _post(bulk, b'{"create":{"_index":"i"}}\nnot json\n', ndjson) == 400
    push = server.url + "/loki/api/v1/push"
    gz = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    body = {"streams": [{"stream": {"job": "x"}, "values": [["2", "b"], ["1", "a"]]}]}
    assert _post(push, gzip.compress(json.dumps(body).encode()), gz) == 400  # out of order
    assert _post(push, json.dumps(body).encode(), gz) == 400  # not gzip
    body["streams"][0]["values"].reverse()
    assert _post(push, gzip.compress(json.dumps(body).encode()), gz) == 204
    bad_label = {"streams": [{"stream": {"bad-name": "x"}, "values": [["1", "a"]]}]}
    assert _post(push, gzip.compress(json.dumps(bad_label).encode()), gz) == 400


def _ship_cli(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(tmp_path / "state"), NO_COLOR="1")
    return subprocess.Popen(
        [sys.executable, "-m", "opsforge", "logs", "ship", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def test_cli_outage_restart_and_kill_lose_nothing(tmp_path: Path, server: ProtocolServer) -> None:
    log = tmp_path / "app.log"
    _write_log(log, 0, 1000)
    spool = tmp_path / "spool"
    base = (str(log), "--to", "elasticsearch", server.url, "--spool", str(spool), "--batch", "50")
    server.outage = True
    proc = _ship_cli(tmp_path, *base, "--max-wait", "1")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert "gave up" in err
    assert "Traceback" not in err
    assert server.docs == {}
    # the target is back but slow; the shipper is killed outright mid-way
    server.outage = False
    server.delay = 0.05
    _write_log(log, 1000, 500)
    proc = _ship_cli(tmp_path, *base)
    deadline = time.monotonic() + 30
    while len(server.docs) < 300 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert 300 <= len(server.docs) < 1500
    server.delay = 0.0
    proc = _ship_cli(tmp_path, *base)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert _messages(server) == sorted(f"event number {i}" for i in range(1500))
    assert max(server.creates_per_id.values()) == 1
    requests_before = len(server.requests)
    proc = _ship_cli(tmp_path, *base)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert len(server.requests) == requests_before  # nothing left, nothing re-read
    assert "0 lines buffered" in err


def test_cli_bad_target(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    _write_log(log, 0, 3)
    proc = _ship_cli(tmp_path, str(log), "--to", "loki", "ftp://x")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "must start with http://" in err
    proc = _ship_cli(
        tmp_path, str(log), "--to", "loki", "http://127.0.0.1:9", "--label", "bad-name=x"
    )
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "--label 'bad-name=x'" in err
