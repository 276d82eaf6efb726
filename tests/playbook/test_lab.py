"""``opsforge apply site.yml`` end to end on the lab's real sshd hosts, and the same
playbook under ``ansible-playbook``: both must leave identical trees."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsforge.testing import LabInfo

from .conftest import tree

COMPAT = Path(__file__).parent / "compat"
HOSTS = "lab1:lab2:lab3"
ANSIBLE_VENV = Path("/tmp/ansible-venv")


def _inventory(lab: LabInfo, path: Path, target: Path, **extra: Any) -> Path:
    data = yaml.safe_load(lab.inventory.read_text())
    data["all"].setdefault("vars", {})["target_root"] = str(target)
    for host in data["all"]["hosts"].values():
        host.update(extra)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _apply(tmp_path: Path, inventory: Path, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(tmp_path / "state"), NO_COLOR="1")
    proc = subprocess.run(
        [sys.executable, "-m", "opsforge", "apply", str(COMPAT / "site.yml"), HOSTS,
         "-i", str(inventory), "-o", "json", *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc.returncode, events, proc.stderr


def _changed(events: list[dict[str, Any]]) -> Counter[str]:
    return Counter(e["host"] for e in events if e["kind"] == "operation"
                   and e["status"] in ("changed", "would_change"))  # fmt: skip


def _trips(events: list[dict[str, Any]]) -> dict[str, int]:
    finished = [e for e in events if e["kind"] == "step_finished"]
    return {e["host"]: e["data"]["round_trips"] for e in finished}


@pytest.fixture
def target(tmp_path: Path) -> Path:
    path = tmp_path / "target"
    path.mkdir()
    return path


def test_converges_then_changes_nothing_and_check_changes_nothing(
    lab: LabInfo, tmp_path: Path, target: Path
) -> None:
    inventory = _inventory(lab, tmp_path / "inventory.yml", target)
    code, events, err = _apply(tmp_path, inventory)
    assert code == 0, err
    assert set(_changed(events)) == {"lab1", "lab2", "lab3"}
    cold = _trips(events)
    assert (target / "lab2/web/web.conf").read_text() == (
        "name=site-lab2\nport=8081\nuser=www\nrole=web\n"
    )
    assert (target / "lab1/data/handler.txt").read_text() == "restarted\nreloaded\n"
    assert (target / "lab1/data/token.txt").read_text() == "s3cr3t-token\n"
    token_events = [e for e in events if e["kind"] == "operation" and e["name"] == "secret content"]
    assert "s3cr3t" not in json.dumps(token_events)

    code, events, err = _apply(tmp_path, inventory)
    assert code == 0, err
    assert not _changed(events), [e["name"] for e in events if e.get("status") == "changed"]
    warm = _trips(events)

    before = tree(target)
    code, events, err = _apply(tmp_path, inventory, "--check")
    assert code == 0, err
    assert tree(target) == before
    assert not _changed(events)
    print(f"\nround trips per host: cold {cold}, warm {warm}, check {_trips(events)}")
    # the compat playbook reads many results on purpose (stat, command output, until,
    # failures, delegation); a playbook without such reads takes 2 (see test_semantics)
    assert max(cold.values()) <= 30
    assert max(warm.values()) <= 24


def test_check_mode_on_a_fresh_tree_creates_nothing(
    lab: LabInfo, tmp_path: Path, target: Path
) -> None:
    inventory = _inventory(lab, tmp_path / "inventory.yml", target)
    code, _events, err = _apply(tmp_path, inventory, "--check", "-e", "skip_counter=true")
    assert code in (0, 1), err
    assert list(target.iterdir()) == []


def _ansible() -> Path:
    """ansible-playbook in its own venv, installed now when missing (skip when pip fails)."""
    binary = ANSIBLE_VENV / "bin" / "ansible-playbook"
    if binary.exists():
        return binary
    try:
        subprocess.run([sys.executable, "-m", "venv", str(ANSIBLE_VENV)], check=True,
                       capture_output=True, timeout=120)  # fmt: skip
        subprocess.run([str(ANSIBLE_VENV / "bin" / "pip"), "install", "-q", "ansible-core"],
                       check=True, capture_output=True, timeout=600)  # fmt: skip
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        shutil.rmtree(ANSIBLE_VENV, ignore_errors=True)
        pytest.skip(f"cannot install ansible-core into {ANSIBLE_VENV}: {exc}")
    return binary


@pytest.mark.slow
def test_same_files_as_ansible_playbook(lab: LabInfo, tmp_path: Path) -> None:
    ansible = _ansible()
    ours, theirs = tmp_path / "opsforge", tmp_path / "ansible"
    ours.mkdir()
    theirs.mkdir()
    code, _, err = _apply(tmp_path, _inventory(lab, tmp_path / "ours.yml", ours))
    assert code == 0, err
    inventory = _inventory(lab, tmp_path / "theirs.yml", theirs, ansible_connection="local",
                           ansible_python_interpreter="/usr/bin/python3")  # fmt: skip
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_RETRY_FILES_ENABLED="False")  # fmt: skip
    proc = subprocess.run(
        [str(ansible), "-i", str(inventory), "--limit", HOSTS, "site.yml"],
        cwd=COMPAT, capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    mine, reference = tree(ours), tree(theirs)
    assert mine.keys() == reference.keys()
    differ = {k: (mine[k], reference[k]) for k in mine if mine[k] != reference[k]}
    assert not differ


def test_delegate_to_another_inventory_host(lab: LabInfo, tmp_path: Path, target: Path) -> None:
    inventory = _inventory(lab, tmp_path / "inventory.yml", target)
    playbook = tmp_path / "delegate.yml"
    playbook.write_text(
        """
- hosts: lab1:lab2
  gather_facts: false
  vars:
    who: echo "{{ inventory_hostname }} ${SSH_CONNECTION##* }"
    base: "{{ target_root }}/{{ inventory_hostname }}"
  tasks:
    - name: on the host
      shell: "{{ who }} > {{ base }}.own"
    - name: on lab5 for the host
      shell: "{{ who }} > {{ base }}.delegated"
      delegate_to: lab5
      register: out
    - name: not in the inventory
      command: /bin/true
      delegate_to: nosuchhost
"""
    )
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(tmp_path / "state"), NO_COLOR="1")
    proc = subprocess.run(
        [sys.executable, "-m", "opsforge", "apply", str(playbook), "-i", str(inventory)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "'nosuchhost' is not a host of the inventory" in proc.stderr
    ports = {name: lab.host(name).port for name in ("lab1", "lab2", "lab5")}
    for name in ("lab1", "lab2"):
        assert (target / f"{name}.own").read_text() == f"{name} {ports[name]}\n"
        # the task ran over lab5's connection, with the delegating host's variables
        assert (target / f"{name}.delegated").read_text() == f"{name} {ports['lab5']}\n"


def test_async_poll_and_fire_and_forget_over_ssh(
    lab: LabInfo, tmp_path: Path, target: Path
) -> None:
    inventory = _inventory(lab, tmp_path / "inventory.yml", target)
    playbook = tmp_path / "async.yml"
    playbook.write_text(
        """
- hosts: lab3
  gather_facts: false
  tasks:
    - name: waited for
      shell: sleep 0.2; echo polled
      async: 30
      poll: 1
      register: polled
    - name: started
      shell: sleep 1; echo detached > {{ target_root }}/detached.txt; echo done; exit 3
      async: 60
      poll: 0
      register: job
    - name: wait for it
      async_status: jid={{ job.ansible_job_id }}
      register: status
      until: status.finished
      retries: 30
      delay: 0.2
      failed_when: false
    - name: show
      debug: msg="{{ polled.stdout }} {{ status.rc }} {{ status.stdout }}"
    - async_status: jid={{ job.ansible_job_id }} mode=cleanup
    - name: too slow
      command: sleep 30
      async: 1
      poll: 1
"""
    )
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(tmp_path / "state"), NO_COLOR="1")
    proc = subprocess.run(
        [sys.executable, "-m", "opsforge", "apply", str(playbook), "-i", str(inventory),
         "-o", "json"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    events = {e["name"]: e for e in map(json.loads, proc.stdout.splitlines())
              if e["kind"] == "operation"}  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "show" in events, proc.stdout + proc.stderr
    # the detached job outlived the session that started it and reported its own exit code
    assert events["show"]["output"] == "polled 3 done"
    assert (target / "detached.txt").read_text() == "detached\n"
    assert events["too slow"]["status"] == "failed"
    assert "did not complete within the requested time - 1s" in events["too slow"]["output"]
    assert not list(Path(lab.root, "home", ".opsforge_async").glob("j*"))
