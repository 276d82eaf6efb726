"""Audit and harden as an unprivileged user with sudo (a password), the way most fleets
are reached: sshd -T needs --become; harden may then turn root logins off entirely,
and the user's own login keeps working."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsforge.testing import LabInfo, SSHLab

from .conftest import WEAK

pytestmark = pytest.mark.root

USER = "opsforge-harden6"
SUDOERS = Path("/etc/sudoers.d/opsforge-harden6")


def _remove_user() -> None:
    SUDOERS.unlink(missing_ok=True)
    if subprocess.run(["id", USER], capture_output=True, check=False).returncode == 0:
        subprocess.run(["userdel", "-r", "-f", USER], capture_output=True, check=False)


@pytest.fixture(scope="module")
def sudo_lab() -> Iterator[tuple[LabInfo, str, Path]]:
    if os.geteuid() != 0:
        pytest.skip("needs root (creates a user and a sudoers drop-in)")
    for tool in ("useradd", "chpasswd", "sudo"):
        if shutil.which(tool) is None and shutil.which(tool, path="/usr/sbin:/sbin") is None:
            pytest.skip(f"{tool} not installed")
    _remove_user()
    password = secrets.token_urlsafe(12)
    root = Path(tempfile.mkdtemp(prefix="opsforge-harden-sudo-"))
    root.chmod(0o755)
    try:
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", USER], check=True)
        subprocess.run(["chpasswd"], input=f"{USER}:{password}\n", text=True, check=True)
        SUDOERS.write_text(f"Defaults:{USER} !lecture, timestamp_timeout=0\n{USER} ALL=(ALL) ALL\n")
        SUDOERS.chmod(0o440)
        inv = root / "inventory.yml"
        with SSHLab(root / "lab", 1, sshd_options=WEAK) as info:
            text = info.inventory_path.read_text().replace(
                "ansible_user: root", f"ansible_user: {USER}"
            )
            inv.write_text(text)
            yield info, password, inv
    finally:
        _remove_user()
        shutil.rmtree(root, ignore_errors=True)


def _run(tmp: Path, password: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(tmp / "state"), NO_COLOR="1")
    env["OPSFORGE_BECOME_PASSWORD"] = password
    env.pop("OPSFORGE_INVENTORY", None)
    return subprocess.run(
        [sys.executable, "-m", "opsforge", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_audit_needs_become_then_harden_turns_root_login_off(
    sudo_lab: tuple[LabInfo, str, Path], tmp_path: Path
) -> None:
    info, password, inv = sudo_lab
    base = ("-i", str(inv), "--profile", "ssh")
    without = _run(tmp_path, password, "audit", "all", *base)
    assert "sshd -T" in without.stdout
    assert "try --become" in without.stdout
    audit = _run(tmp_path, password, "audit", "all", *base, "--become", "--format", "json")
    rules = {f["rule_id"] for f in json.loads(audit.stdout)["findings"]}
    assert {"ssh.permit-root-login", "ssh.password-authentication"} <= rules
    policy = tmp_path / "policy.yml"
    policy.write_text(f"permit_root_login: 'no'\nallow_users: [{USER}]\n")
    harden = _run(tmp_path, password, "harden", "all", *base, "--become", "--policy", str(policy))
    assert harden.returncode == 0, harden.stdout + harden.stderr
    text = info.sshd_config_path("lab1").read_text()
    assert "PermitRootLogin no\n" in text  # the session is not root: no lock-out
    assert f"AllowUsers {USER}\n" in text
    after = _run(tmp_path, password, "audit", "all", *base, "--become", "--policy", str(policy))
    assert after.returncode == 0, after.stdout + after.stderr
    for output in (without, audit, harden, after):
        assert password not in output.stdout + output.stderr
    root_login = _run(
        tmp_path, password, "exec", "all", "-i", str(info.inventory_path), "--", "true"
    )
    assert root_login.returncode == 3  # root may not log in any more
