"""``opsforge alerts receive`` as a real process: Alertmanager v4 payloads, de-duplication
by fingerprint, run history, actions on a lab host; malformed input answered with 400."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from observe.servers import ServerProcess, free_port, opsforge_argv
from opsforge.observe.alerts.payload import PayloadError, parse_payload
from opsforge.testing import LabInfo


def alert(name: str, fingerprint: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} summary"},
        "startsAt": "2026-11-24T05:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-24T06:00:00Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": fingerprint,
    }


def payload(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "opsforge",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager",
        "alerts": list(alerts),
    }


BAD_PAYLOADS = [
    (b"{not json", "not JSON"),
    (b"[]", "must be a JSON object"),
    (json.dumps({"version": "3", "alerts": []}).encode(), "unsupported payload version"),
    (json.dumps({"version": "4"}).encode(), "alerts must be a list"),
    (json.dumps(payload({"status": "firing"})).encode(), "alerts[0].fingerprint must be a string"),
    (
        json.dumps(payload({**alert("A", "f1"), "status": "pending"})).encode(),
        "must be firing or resolved",
    ),
    (json.dumps(payload({**alert("A", "")})).encode(), "fingerprint is empty"),
    (json.dumps(payload({**alert("A", "f"), "labels": {"a": 1}})).encode(), "object of strings"),
]


@pytest.mark.parametrize(("body", "message"), BAD_PAYLOADS)
def test_malformed_payloads_are_refused(body: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message.replace("[", r"\[").replace(".", r"\.")):
        parse_payload(body)


class Receiver:
    def __init__(self, tmp: Path, config: Path | None = None) -> None:
        self.state = tmp / "state"
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        argv = opsforge_argv("alerts", "receive", "--listen", f"127.0.0.1:{port}")
        if config is not None:
            argv += ["--config", str(config)]
        self.env = {"OPSFORGE_STATE_DIR": str(self.state), "NO_COLOR": "1"}
        self.server = ServerProcess(argv, tmp / "receiver.log", f"{self.url}/-/healthy", self.env)
        self.server.wait_ready()

    def post(self, data: Any, raw: bytes | None = None) -> tuple[int, dict[str, Any]]:
        body = raw if raw is not None else json.dumps(data).encode()
        request = urllib.request.Request(
            f"{self.url}/alerts", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    def runs(self, want: int, timeout: float = 60) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            done = subprocess.run(
                opsforge_argv("runs", "list", "--json"),
                capture_output=True,
                text=True,
                env=dict(os.environ, **self.env),
                timeout=60,
            )
            rows = [json.loads(line) for line in done.stdout.splitlines()]
            alert_rows = [r for r in rows if r["command"] == "alert" and r["state"] != "incomplete"]
            if len(alert_rows) >= want or time.monotonic() > deadline:
                return rows
            time.sleep(0.2)

    def events(self, run_id: str) -> list[dict[str, Any]]:
        done = subprocess.run(
            opsforge_argv("runs", "show", run_id, "--events"),
            capture_output=True,
            text=True,
            env=dict(os.environ, **self.env),
            timeout=60,
        )
        return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    r = Receiver(tmp_path)
    yield r
    r.server.stop()


def test_alerts_are_recorded_once_per_occurrence(receiver: Receiver) -> None:
    first = payload(alert("HostDown", "aaa1", instance="web1:9101"), alert("DiskFull", "bbb2"))
    assert receiver.post(first) == (200, {"accepted": 2, "duplicates": 0})
    # Alertmanager's repeat: the same occurrences again
    assert receiver.post(first) == (200, {"accepted": 0, "duplicates": 2})
    # the same alert resolved is news; resolved again is not
    resolved = payload(alert("HostDown", "aaa1", "resolved", instance="web1:9101"))
    assert receiver.post(resolved) == (200, {"accepted": 1, "duplicates": 0})
    assert receiver.post(resolved) == (200, {"accepted": 0, "duplicates": 1})
    rows = [r for r in receiver.runs(want=2) if r["command"] == "alert"]
    assert len(rows) == 2
    assert all(r["state"] == "ok" for r in rows)
    hosts = sorted(r["hosts_total"] for r in rows)
    assert hosts == [1, 2]  # web1 and the host-less alert; then web1 again
    recorded = [
        json.loads(e["text"])["alert"]
        for row in rows
        for e in receiver.events(row["run_id"])
        if e["kind"] == "step_output" and e["text"].startswith('{"alert"')
    ]
    assert sorted((a["alertname"], a["status"]) for a in recorded) == [
        ("DiskFull", "firing"), ("HostDown", "firing"), ("HostDown", "resolved"),
    ]  # fmt: skip
    assert {a["fingerprint"] for a in recorded} == {"aaa1", "bbb2"}


def test_duplicates_are_remembered_across_restarts(tmp_path: Path) -> None:
    r = Receiver(tmp_path)
    try:
        assert r.post(payload(alert("A", "f1")))[1]["accepted"] == 1
        r.runs(want=1)
    finally:
        r.server.stop()
    again = Receiver(tmp_path)
    try:
        assert again.post(payload(alert("A", "f1"))) == (200, {"accepted": 0, "duplicates": 1})
    finally:
        again.server.stop()


def test_bad_requests_get_400_and_the_receiver_keeps_going(receiver: Receiver) -> None:
    status, body = receiver.post(None, raw=b"{nope")
    assert status == 400
    assert "not JSON" in body["error"]
    status, body = receiver.post({"version": "2", "alerts": []})
    assert status == 400
    assert receiver.post(payload(alert("A", "f9")))[0] == 200


def test_an_action_runs_on_the_alerting_host(tmp_path: Path, lab: LabInfo) -> None:
    marker = tmp_path / "remediated"
    config = tmp_path / "receiver.yml"
    config.write_text(
        f"inventory: {lab.inventory}\n"
        "host_label: host\n"
        "actions:\n"
        "  - name: fix-disk\n"
        "    match: {alertname: HostDiskAlmostFull}\n"
        f"    exec: 'echo \"$ALERT_NAME $ALERT_STATUS $ALERT_LABEL_MOUNTPOINT\" >> {marker}'\n"
        "  - name: broken\n"
        "    match: {alertname: Broken}\n"
        "    exec: 'exit 7'\n"
    )
    r = Receiver(tmp_path, config)
    try:
        disk = alert("HostDiskAlmostFull", "d1", host="lab3", mountpoint="/var")
        assert r.post(payload(disk))[1]["accepted"] == 1
        assert r.post(payload(disk))[1]["duplicates"] == 1  # the action runs once
        assert r.post(payload(alert("Broken", "b1", host="lab4")))[1]["accepted"] == 1
        rows = r.runs(want=2)
    finally:
        r.server.stop()
    assert marker.read_text() == "HostDiskAlmostFull firing /var\n"
    alert_rows = {r_["argv"][1]: r_ for r_ in rows if r_["command"] == "alert"}
    assert alert_rows["HostDiskAlmostFull"]["state"] == "ok"
    assert alert_rows["Broken"]["state"] == "failed"
    # each action is an exec run of its own in the same history: the audit trail
    execs = [r_ for r_ in rows if r_["command"] == "exec"]
    assert sorted(e["state"] for e in execs) == ["failed", "ok"]
    assert any("ALERT_FINGERPRINT=d1" in " ".join(e["argv"]) for e in execs)
    log = (tmp_path / "receiver.log").read_text()
    assert "alert HostDiskAlmostFull firing on lab3 (d1): fix-disk ok" in log
    assert "alert Broken firing on lab4 (b1): broken failed" in log


def test_a_remediation_deploy_is_applied_to_the_alerting_host(tmp_path: Path, lab: LabInfo) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (tmp_path / "remediate.py").write_text(
        "from opsforge.deploy import files\n\n\n"
        "def deploy(host):\n"
        f"    files.line(host, '{target}/' + host.name + '.conf', 'max_conn = 100',\n"
        "               regexp='^max_conn = ')\n"
    )
    config = tmp_path / "receiver.yml"
    config.write_text(
        f"inventory: {lab.inventory}\n"
        "actions:\n"
        "  - name: tune\n"
        "    match_re: {alertname: 'Too.*Connections'}\n"
        "    apply: remediate.py\n"
    )
    r = Receiver(tmp_path, config)
    try:
        too_many = alert("TooManyConnections", "c1", instance="lab5:9101")
        assert r.post(payload(too_many))[1]["accepted"] == 1
        rows = r.runs(want=1)
    finally:
        r.server.stop()
    assert (target / "lab5.conf").read_text() == "max_conn = 100\n"
    applied = [row for row in rows if row["command"] == "apply"]
    assert len(applied) == 1
    assert applied[0]["state"] == "ok"
    assert applied[0]["host_counts"]["changed"] == 1


def test_receiver_config_errors_name_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "receiver.yml"
    config.write_text("actions:\n  - name: x\n    match: {alertname: A}\n    run: ls\n")
    done = subprocess.run(
        opsforge_argv("alerts", "receive", "--config", str(config)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"{config}:2: " in done.stderr
    assert "exactly one of 'exec' or 'apply'" in done.stderr
