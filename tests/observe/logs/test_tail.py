"""opsforge logs tail against the lab's real sshd hosts: merged, prefixed, parsed, stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from opsforge.testing import LabInfo, processes_matching, wait_gone

pytestmark = pytest.mark.lab


def _default_sigint() -> None:
    """Ctrl-C as in a terminal, even when the test run itself was started in the
    background (a non-interactive shell starts background jobs with SIGINT ignored)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_tail_follows_a_file_on_many_hosts_and_ctrl_c_kills_the_remote_tails(
    lab: LabInfo, tmp_path: Path
) -> None:
    # the lab's hosts share this machine's file system: one file, followed on three hosts
    log = tmp_path / f"app-{uuid.uuid4().hex[:8]}.log"
    log.write_text("Mar  1 08:00:00 web1 app[1]: an old line\n")
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(tmp_path / "state"), NO_COLOR="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsforge", "logs", "tail", "lab1:lab2:lab3",
         "-i", str(lab.inventory), "--json", "-n", "1", "--", str(log)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=_default_sigint,
    )  # fmt: skip
    marker = f"tail -n 1 -F -- {log}"
    try:
        deadline = time.monotonic() + 60
        while len(processes_matching(marker)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(processes_matching(marker)) >= 3
        with log.open("a") as out:
            out.write("Mar  1 08:00:01 web1 app[1]: <3>disk sdb failed\n")
            out.write("Mar  1 08:00:02 web1 app[1]: request 7 served\n")
        time.sleep(2)
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    records = [json.loads(line) for line in stdout.splitlines()]
    by_host: dict[str, list[str]] = {}
    for record in records:
        by_host.setdefault(record["opsforge.host"], []).append(record["message"])
    assert set(by_host) == {"lab1", "lab2", "lab3"}
    for messages in by_host.values():
        assert messages == ["an old line", "<3>disk sdb failed", "request 7 served"]
    assert all(record["process.name"] == "app" for record in records)
    assert wait_gone(marker) == []


def test_tail_bad_pattern_and_usage(lab: LabInfo, tmp_path: Path) -> None:
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(tmp_path / "state"), NO_COLOR="1")
    base = [sys.executable, "-m", "opsforge", "logs", "tail"]
    for args, text in [
        (["nosuchhost", "-i", str(lab.inventory), "--", "/var/log/x"], "no host or group matches"),
        (["lab1", "-i", str(lab.inventory), "--", "/a", "/b"], "give exactly one file"),
    ]:
        proc = subprocess.run(
            [*base, *args], capture_output=True, text=True, env=env, timeout=60, check=False
        )
        assert proc.returncode == 2, proc.stderr
        assert text in proc.stderr
        assert "Traceback" not in proc.stderr
