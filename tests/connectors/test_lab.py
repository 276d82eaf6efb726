"""The SSH lab itself: files it writes, state across processes, stop by PID."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from opsforge.testing import LabError, LabInfo, SSHLab, lab_down, lab_status, lab_up


def test_lab_files_work_with_openssh(lab: LabInfo) -> None:
    inventory = yaml.safe_load(lab.inventory_path.read_text())
    hosts = inventory["all"]["hosts"]
    assert list(hosts) == [f"lab{i}" for i in range(1, 21)]
    assert hosts["lab2"]["ansible_port"] == lab.host("lab2").port
    assert hosts["lab2"]["ansible_host"] == "127.0.0.1"
    assert hosts["lab2"]["ansible_ssh_private_key_file"] == str(lab.key_path)
    assert list(inventory["all"]["children"]["odd"]["hosts"])[:2] == ["lab1", "lab3"]
    assert list(inventory["all"]["children"]["even"]["hosts"])[:2] == ["lab2", "lab4"]
    # the real OpenSSH client, strict host key checking against the lab known_hosts
    done = subprocess.run(
        ["ssh", "-F", str(lab.ssh_config_path), "-o", "BatchMode=yes", "lab5", "echo $HOME"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(lab.root / "home")


def test_lab_up_status_down_across_processes(tmp_path: Path) -> None:
    root = tmp_path / "lab"
    script = "import sys; from opsforge.testing import lab_up; lab_up(sys.argv[1], 3)"
    began = time.monotonic()
    subprocess.run([sys.executable, "-c", script, str(root)], check=True, timeout=60)
    print(f"lab up 3 in a subprocess: {time.monotonic() - began:.2f}s")
    try:
        info = lab_status(root)
        assert info is not None
        assert [h.running for h in info.hosts] == [True] * 3
        assert lab_up(root, 3) == info  # already running: kept as is
        pids = [h.pid for h in info.hosts]
    finally:
        stopped = lab_down(root)
    assert stopped == 3
    assert lab_status(root) is None
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or _zombie(pid)
    assert lab_down(root) == 0


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_reused_pid_is_not_signalled(tmp_path: Path) -> None:
    with SSHLab(tmp_path / "lab", 1) as info:
        state = tmp_path / "lab" / "pids.json"
        text = state.read_text()
        # pretend the recorded process started at another time: not ours any more
        state.write_text(
            text.replace(f'"start_ticks": {info.hosts[0].start_ticks}', '"start_ticks": 1')
        )
        status = lab_status(tmp_path / "lab")
        assert status is not None
        assert not status.hosts[0].running
        assert lab_down(tmp_path / "lab") == 0
        assert Path(f"/proc/{info.hosts[0].pid}").exists()
        state.write_text(text)  # let the context manager stop it


def test_twenty_hosts_start_quickly(tmp_path: Path) -> None:
    began = time.monotonic()
    with SSHLab(tmp_path / "lab", 20) as info:
        took = time.monotonic() - began
        assert len({h.port for h in info.hosts}) == 20
    print(f"20-host lab started in {took:.2f}s")
    assert took < 5
    assert os.path.exists(tmp_path / "lab" / "known_hosts")


def test_missing_sshd_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("opsforge.testing.lab.shutil.which", lambda *a, **k: None)
    with pytest.raises(LabError, match=r"sshd not found: install it with `apt-get install"):
        SSHLab(tmp_path / "lab", 1).start()
