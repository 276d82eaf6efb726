"""The CLI end to end, against the real sshd hosts of the lab."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

from opsforge.testing import LabInfo, processes_matching, wait_gone

from .conftest import CliRunner


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def inventory_with_dead_host(lab: LabInfo, tmp_path: Path) -> Path:
    """The lab's inventory plus ``dead``: a host whose port nothing listens on."""
    data = yaml.safe_load(lab.inventory.read_text())
    hosts = data["all"]["hosts"]
    hosts["dead"] = dict(hosts["lab1"], ansible_port=_closed_port())
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_exec_on_twenty_hosts(opsforge_cli: CliRunner, lab: LabInfo) -> None:
    proc = opsforge_cli("exec", "all", "-i", str(lab.inventory), "--", "echo hi-$((6*7))")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for host in lab.hosts:
        assert any(line.startswith(host.name) and line.endswith("| hi-42") for line in lines), (
            host.name
        )
    assert "20 hosts" in proc.stderr
    assert "20 ok" in proc.stderr


def test_pattern_selects_hosts(opsforge_cli: CliRunner, lab: LabInfo) -> None:
    proc = opsforge_cli("exec", "odd:!lab1", "-i", str(lab.inventory), "--", "true")
    assert proc.returncode == 0, proc.stderr
    assert "9 hosts" in proc.stderr


def test_unreachable_host_is_reported_while_others_succeed(
    opsforge_cli: CliRunner, inventory_with_dead_host: Path
) -> None:
    proc = opsforge_cli(
        "exec",
        "all",
        "-i",
        str(inventory_with_dead_host),
        "--connect-timeout",
        "3",
        "--",
        "echo alive",
    )
    assert proc.returncode == 3, proc.stderr
    assert "1 unreachable" in proc.stderr
    assert "20 ok" in proc.stderr
    assert proc.stdout.count("| alive") == 20


def test_failure_exit_code_and_recap(opsforge_cli: CliRunner, lab: LabInfo) -> None:
    proc = opsforge_cli(
        "exec",
        "lab1:lab2:lab3",
        "-i",
        str(lab.inventory),
        "--",
        'test "$SSH_CONNECTION" = x || { echo boom >&2; exit 7; }',
    )
    assert proc.returncode == 1
    assert "3 failed" in proc.stderr
    assert "boom" in proc.stderr


def test_timeout_kills_remote_processes(opsforge_cli: CliRunner, lab: LabInfo) -> None:
    marker = f"cli-timeout-{uuid.uuid4().hex}"
    proc = opsforge_cli(
        "exec",
        "lab1",
        "-i",
        str(lab.inventory),
        "--timeout",
        "1",
        "--",
        f"sleep 300; : {marker}",
    )
    assert proc.returncode == 1
    assert "timed_out" in proc.stderr
    assert wait_gone(marker) == []


def test_json_lines_output(opsforge_cli: CliRunner, lab: LabInfo) -> None:
    proc = opsforge_cli(
        "exec", "lab1:lab2", "-i", str(lab.inventory), "-o", "json", "--", "echo out; echo err >&2"
    )
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "run_started"
    assert kinds[-1] == "run_finished"
    outputs = {(e["host"], e["stream"], e["text"]) for e in events if e["kind"] == "step_output"}
    assert ("lab1", "stdout", "out\n") in outputs
    assert ("lab2", "stderr", "err\n") in outputs


def test_group_output_folds_identical_outputs(opsforge_cli: CliRunner, lab: LabInfo) -> None:
    proc = opsforge_cli(
        "exec", "all", "-i", str(lab.inventory), "--group-output", "--", "echo same"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("same") == 1
    assert "(20 hosts, exit 0)" in proc.stderr


def test_copy_and_fetch_round_trip(opsforge_cli: CliRunner, lab: LabInfo, tmp_path: Path) -> None:
    src = tmp_path / "payload.bin"
    src.write_bytes(os.urandom(100_000))
    remote_dir = tmp_path / "remote"
    remote_dir.mkdir()
    dest = remote_dir / "payload.bin"
    copied = opsforge_cli(
        "copy", "lab1", "-i", str(lab.inventory), str(src), str(dest), "--mode", "0600"
    )
    assert copied.returncode == 0, copied.stderr
    assert dest.read_bytes() == src.read_bytes()
    assert dest.stat().st_mode & 0o777 == 0o600
    fetched = opsforge_cli(
        "fetch", "lab1:lab2", "-i", str(lab.inventory), str(dest), str(tmp_path / "got")
    )
    assert fetched.returncode == 0, fetched.stderr
    for host in ("lab1", "lab2"):
        got = tmp_path / "got" / host / str(dest).lstrip("/")
        assert got.read_bytes() == src.read_bytes()


def test_fetch_missing_file_fails_cleanly(
    opsforge_cli: CliRunner, lab: LabInfo, tmp_path: Path
) -> None:
    proc = opsforge_cli(
        "fetch", "lab1", "-i", str(lab.inventory), "/nonexistent/file", str(tmp_path / "got")
    )
    assert proc.returncode == 1
    assert "/nonexistent/file" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_runs_are_recorded(opsforge_cli: CliRunner, lab: LabInfo) -> None:
    proc = opsforge_cli("exec", "lab1", "-i", str(lab.inventory), "--", "true")
    assert proc.returncode == 0, proc.stderr
    listed = opsforge_cli("runs", "list", "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert rows
    assert rows[0]["exit_code"] == 0
    shown = opsforge_cli("runs", "show", rows[0]["run_id"][:16], "--events")
    assert shown.returncode == 0, shown.stderr
    assert '"run_finished"' in shown.stdout


def test_ctrl_c_prints_recap_and_exits_130(lab: LabInfo, state_dir: Path) -> None:
    marker = f"cli-sigint-{uuid.uuid4().hex}"
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(state_dir), NO_COLOR="1", COLUMNS="200")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "opsforge",
            "exec",
            "lab1:lab2:lab3",
            "-i",
            str(lab.inventory),
            "--",
            f"sleep 300; : {marker}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while len(processes_matching(f"sleep 300; : {marker}")) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(processes_matching(f"sleep 300; : {marker}")) >= 3
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert "3 hosts" in err
    assert "Traceback" not in err
    assert wait_gone(marker) == []


def test_exec_local(opsforge_cli: CliRunner, tmp_path: Path) -> None:
    proc = opsforge_cli(
        "exec", "all", "-i", "@local,", "--cwd", str(tmp_path), "-e", "X=1", "--", "echo $X; pwd"
    )
    assert proc.returncode == 0, proc.stderr
    assert "| 1" in proc.stdout
    assert str(tmp_path) in proc.stdout
