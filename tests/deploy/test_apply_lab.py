"""``opsforge apply`` with Python deploys, end to end against real sshd hosts."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsforge.testing import LabInfo

DEPLOY = """
from opsforge.deploy import files, server


def deploy(host):
    base = f"{host.vars['target_root']}/{host.name}"
    files.directory(host, base, mode="0755", tags=["dirs"])
    files.template(host, "app.conf.j2", f"{base}/app.conf", mode="0640",
                   port=host.vars.get("port", 8080), notify="restart app", tags=["config"])
    for i in range(3):
        files.line(host, f"{base}/settings.ini", f"opt{i} = {host.name}-{i}",
                   regexp=f"^opt{i} = ", tags=["config"])
    server.shell(host, f"test -f {base}/app.conf", changed=False)

    @host.handler("restart app")
    def _(h):
        server.shell(h, f"echo restarted >> {base}/restarts")
"""

TEMPLATE = "# {{ ansible_managed }}\nname = {{ inventory_hostname }}\nport = {{ port }}\n"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def project(tmp_path: Path, lab: LabInfo) -> dict[str, Path]:
    """A deploy dir, a target root, and the lab inventory with ``target_root`` set."""
    deploy_dir = tmp_path / "deploy"
    (deploy_dir / "templates").mkdir(parents=True)
    (deploy_dir / "deploy.py").write_text(DEPLOY)
    (deploy_dir / "templates" / "app.conf.j2").write_text(TEMPLATE)
    target = tmp_path / "target"
    target.mkdir()
    data = yaml.safe_load(lab.inventory.read_text())
    data["all"]["vars"]["target_root"] = str(target)
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump(data, sort_keys=False))
    return {
        "deploy": deploy_dir / "deploy.py",
        "target": target,
        "inventory": inventory,
        "root": tmp_path,
    }


def apply(
    project: dict[str, Path], *args: str, inventory: Path | None = None
) -> tuple[int, list[dict[str, Any]], str]:
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(project["root"] / "state"), NO_COLOR="1")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "opsforge",
            "apply",
            str(project["deploy"]),
            *args,
            "-i",
            str(inventory or project["inventory"]),
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc.returncode, events, proc.stderr


def op_counts(events: list[dict[str, Any]]) -> Counter[str]:
    return Counter(e["status"] for e in events if e["kind"] == "operation")


def tree(root: Path) -> dict[str, tuple[str, int]]:
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        out[str(path.relative_to(root))] = (digest, st.st_mode)
    return out


def test_apply_converges_then_changes_nothing(project: dict[str, Path]) -> None:
    code, events, err = apply(project, "lab1:lab2:lab3")
    assert code == 0, err
    counts = op_counts(events)
    assert counts["changed"] == 3 * 6  # dir, template, 3 lines, handler
    conf = project["target"] / "lab2" / "app.conf"
    assert conf.read_text() == "# Ansible managed\nname = lab2\nport = 8080\n"
    assert conf.stat().st_mode & 0o777 == 0o640
    assert (project["target"] / "lab2" / "settings.ini").read_text() == (
        "opt0 = lab2-0\nopt1 = lab2-1\nopt2 = lab2-2\n"
    )
    code, events, err = apply(project, "lab1:lab2:lab3")
    assert code == 0, err
    assert op_counts(events)["changed"] == 0
    assert (project["target"] / "lab1" / "restarts").read_text() == "restarted\n"
    trips = [e["data"]["round_trips"] for e in events if e["kind"] == "step_finished"]
    assert trips == [2, 2, 2]  # facts, then one script (the read-only shell still runs)


def test_check_mode_changes_nothing_and_shows_diffs(project: dict[str, Path]) -> None:
    apply(project, "lab1")
    conf = project["target"] / "lab1" / "app.conf"
    conf.write_text("drifted\n")
    before = tree(project["target"])
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(project["root"] / "state"), NO_COLOR="1")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "opsforge",
            "apply",
            str(project["deploy"]),
            "lab1",
            "-i",
            str(project["inventory"]),
            "--check",
            "--diff",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert tree(project["target"]) == before
    assert "would change" in proc.stdout
    assert "-drifted" in proc.stdout
    assert "+port = 8080" in proc.stdout
    assert "check mode: nothing was changed" in proc.stderr


def test_handlers_run_once_and_only_on_change(project: dict[str, Path]) -> None:
    restarts = project["target"] / "lab1" / "restarts"
    apply(project, "lab1")
    apply(project, "lab1")
    assert restarts.read_text() == "restarted\n"
    data = yaml.safe_load(project["inventory"].read_text())
    data["all"]["hosts"]["lab1"]["port"] = 9090
    project["inventory"].write_text(yaml.safe_dump(data))
    code, events, err = apply(project, "lab1")
    assert code == 0, err
    assert restarts.read_text() == "restarted\nrestarted\n"
    handler = [e for e in events if e["kind"] == "operation" and e["handler"]]
    assert [e["status"] for e in handler] == ["changed"]


def test_tags_select_operations(project: dict[str, Path]) -> None:
    code, events, err = apply(project, "lab1", "--tags", "dirs")
    assert code == 0, err
    changed = [e["name"] for e in events if e["kind"] == "operation" and e["status"] == "changed"]
    assert len(changed) == 1
    assert changed[0].startswith("directory")
    assert not (project["target"] / "lab1" / "app.conf").exists()


def test_failure_stops_the_host_and_leaves_whole_files(project: dict[str, Path]) -> None:
    project["deploy"].write_text(
        DEPLOY.replace(
            'server.shell(host, f"test -f {base}/app.conf", changed=False)',
            'server.shell(host, "echo boom >&2; exit 5")\n'
            '    files.copy(host, content="late\\n", dest=f"{base}/late.txt")',
        )
    )
    code, events, _ = apply(project, "lab1")
    assert code == 1
    statuses = {e["name"]: e["status"] for e in events if e["kind"] == "operation"}
    assert statuses["shell echo boom >&2; exit 5"] == "failed"
    assert next(s for n, s in statuses.items() if n.startswith("copy")) == "skipped"
    assert not (project["target"] / "lab1" / "late.txt").exists()
    assert (project["target"] / "lab1" / "app.conf").read_text().startswith("# Ansible")
    leftovers = list(project["target"].rglob(".*opsforge-*"))
    assert leftovers == []
    failed = next(e for e in events if e["kind"] == "operation" and e["status"] == "failed")
    assert "boom" in failed["output"]


def test_unreachable_host_does_not_stop_the_others(project: dict[str, Path]) -> None:
    data = yaml.safe_load(project["inventory"].read_text())
    data["all"]["hosts"]["dead"] = dict(data["all"]["hosts"]["lab1"], ansible_port=_closed_port())
    project["inventory"].write_text(yaml.safe_dump(data))
    code, events, err = apply(project, "lab1:dead", "--connect-timeout", "3")
    assert code == 3, err
    finished = {e["host"]: e["status"] for e in events if e["kind"] == "step_finished"}
    assert finished == {"lab1": "changed", "dead": "unreachable"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def deploy(host):\n    x = (\n", "deploy.py:2"),
        ("def deploy(host):\n    pass\n\nraise RuntimeError('at import')\n", "deploy.py:4"),
        ("X = 1\n", "no deploy function"),
    ],
)
def test_bad_deploy_files_name_file_and_line(
    project: dict[str, Path], source: str, expected: str
) -> None:
    project["deploy"].write_text(source)
    code, _, err = apply(project, "lab1")
    assert code == 2
    assert expected in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    host.vars['nope']\n", "deploy.py:5: KeyError"),
        ("    files.directory(host, 'relative/path')\n", "deploy.py:5"),
        ("    files.directory(host, '/tmp/x', notify='missing')\n", "unknown handler 'missing'"),
        ("    files.template(host, 'nope.j2', '/tmp/x')\n", "nope.j2"),
    ],
)
def test_errors_in_deploy_code_name_the_line(
    project: dict[str, Path], body: str, expected: str
) -> None:
    project["deploy"].write_text(
        "from opsforge.deploy import files\n\n\ndef deploy(host):\n" + body
    )
    code, events, err = apply(project, "lab1")
    assert code in (1, 2)
    messages = err + " ".join(e.get("message", "") for e in events if e["kind"] == "step_finished")
    assert expected in messages
    assert "Traceback" not in err


def test_rolling_deploy_stops_when_a_batch_fails_too_much(project: dict[str, Path]) -> None:
    project["deploy"].write_text(
        "from opsforge.deploy import server\n\n\n"
        "def deploy(host):\n"
        "    server.shell(host, 'test ' + host.name + ' != lab2')\n"
    )
    code, events, err = apply(
        project, "lab1:lab2:lab3:lab4", "--serial", "1", "--max-fail-percentage", "0"
    )
    assert code == 1, err
    finished = {
        e["host"]: (e["status"], e["message"]) for e in events if e["kind"] == "step_finished"
    }
    assert finished["lab1"][0] == "changed"
    assert finished["lab2"][0] == "failed"
    assert finished["lab3"][0] == "skipped"
    assert "max_fail_percentage" in finished["lab3"][1]
    batches = [e["hosts"] for e in events if e["kind"] == "batch_started"]
    assert batches == [["lab1"], ["lab2"]]
