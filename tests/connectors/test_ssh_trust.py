"""Host key policies and authentication failures against real sshd."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from opsforge.connectors.ssh import SSHConnector
from opsforge.errors import AuthError, HostKeyError
from opsforge.testing import LabInfo
from opsforge.types import HostKeyPolicy

from .conftest import arun


async def echo(conn: SSHConnector) -> str:
    async with conn:
        return (await conn.run("echo hi")).stdout


def connector(lab: LabInfo, name: str, known_hosts: Path, policy: HostKeyPolicy) -> SSHConnector:
    options = lab.connect_options(known_hosts=str(known_hosts), host_key_policy=policy)
    return SSHConnector(lab.host_spec(name), options)


def known_hosts_with_wrong_key(lab: LabInfo, name: str, path: Path) -> int:
    """Copy the lab's known_hosts with ``name``'s key replaced; returns that line number."""
    port = lab.host(name).port
    wrong = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    lines = lab.known_hosts_path.read_text().splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.startswith(f"[127.0.0.1]:{port} "))
    lines[number - 1] = f"[127.0.0.1]:{port} {wrong}"
    path.write_text("\n".join(lines) + "\n")
    return number


@pytest.mark.parametrize("policy", [HostKeyPolicy.STRICT, HostKeyPolicy.ACCEPT_NEW])
def test_changed_host_key_is_refused(lab: LabInfo, tmp_path: Path, policy: HostKeyPolicy) -> None:
    known = tmp_path / "known_hosts"
    number = known_hosts_with_wrong_key(lab, "lab11", known)
    with pytest.raises(HostKeyError) as caught:
        arun(echo(connector(lab, "lab11", known, policy)))
    message = str(caught.value)
    assert "CHANGED" in message
    assert f"{known}:{number}" in message
    assert str(lab.host("lab11").port) in message
    assert "SHA256:" in message
    assert caught.value.host == "lab11"


def test_unknown_host_key_refused_under_strict(lab: LabInfo, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    with pytest.raises(HostKeyError, match="not known"):
        arun(echo(connector(lab, "lab12", known, HostKeyPolicy.STRICT)))


def test_missing_known_hosts_file_refused_under_strict(lab: LabInfo, tmp_path: Path) -> None:
    with pytest.raises(HostKeyError, match="not known"):
        arun(echo(connector(lab, "lab12", tmp_path / "absent", HostKeyPolicy.STRICT)))


def test_unknown_host_key_accepted_and_recorded_under_accept_new(
    lab: LabInfo, tmp_path: Path
) -> None:
    known = tmp_path / "sub" / "known_hosts"
    port = lab.host("lab13").port
    assert arun(echo(connector(lab, "lab13", known, HostKeyPolicy.ACCEPT_NEW))) == "hi\n"
    lines = known.read_text().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"[127.0.0.1]:{port} ssh-ed25519 ")
    assert lines[0].split()[:3] in [
        line.split()[:3] for line in lab.known_hosts_path.read_text().splitlines()
    ]
    # recorded: now a strict connection trusts it, and accept-new does not add it twice
    assert arun(echo(connector(lab, "lab13", known, HostKeyPolicy.STRICT))) == "hi\n"
    assert arun(echo(connector(lab, "lab13", known, HostKeyPolicy.ACCEPT_NEW))) == "hi\n"
    assert len(known.read_text().splitlines()) == 1


def test_policy_off_accepts_any_key(lab: LabInfo, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known_hosts_with_wrong_key(lab, "lab14", known)
    assert arun(echo(connector(lab, "lab14", known, HostKeyPolicy.OFF))) == "hi\n"


def test_per_host_known_hosts_wins(lab: LabInfo, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known_hosts_with_wrong_key(lab, "lab14", known)
    spec = lab.host_spec("lab14", known_hosts=str(known))
    with pytest.raises(HostKeyError):
        arun(echo(SSHConnector(spec, lab.connect_options())))


def test_wrong_key_is_an_auth_error_naming_the_key(lab: LabInfo, tmp_path: Path) -> None:
    key_path = tmp_path / "wrong_ed25519"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(key_path)
    spec = lab.host_spec("lab15", identity_files=(str(key_path),))
    with pytest.raises(AuthError) as caught:
        arun(echo(SSHConnector(spec, lab.connect_options())))
    assert str(key_path) in str(caught.value)
    assert "permission denied" in str(caught.value)


def test_missing_identity_file_is_an_auth_error(lab: LabInfo, tmp_path: Path) -> None:
    spec = lab.host_spec("lab15", identity_files=(str(tmp_path / "absent"),))
    with pytest.raises(AuthError, match="identity file"):
        arun(echo(SSHConnector(spec, lab.connect_options())))


@pytest.fixture
def agent(lab: LabInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private ssh-agent holding the lab key (stopped by its PID)."""
    if shutil.which("ssh-agent") is None or shutil.which("ssh-add") is None:
        pytest.skip("ssh-agent not installed")
    sock = str(tmp_path / "agent.sock")
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", sock], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5
        while not Path(sock).exists():
            assert time.monotonic() < deadline, "ssh-agent did not start"
            time.sleep(0.02)
        env = {**os.environ, "SSH_AUTH_SOCK": sock}
        subprocess.run(["ssh-add", "-q", str(lab.key_path)], env=env, check=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", sock)
        monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ssh/id_* keys to fall back on
        yield sock
    finally:
        proc.terminate()
        proc.wait(5)


def test_agent_keys_are_used_only_when_allowed(lab: LabInfo, agent: str) -> None:
    spec = lab.host_spec("lab16", identity_files=())
    assert arun(echo(SSHConnector(spec, lab.connect_options(use_agent=True)))) == "hi\n"
    with pytest.raises(AuthError, match="no key files found"):
        arun(echo(SSHConnector(spec, lab.connect_options(use_agent=False))))
