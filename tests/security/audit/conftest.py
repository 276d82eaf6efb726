"""A lab with one deliberately weak and one strong sshd (real OpenSSH on 127.0.0.1),
and a runner for the real ``opsforge`` console script."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsforge.testing import LabInfo, SSHLab

WEAK = {
    "PermitRootLogin": "yes",
    "PasswordAuthentication": "yes",
    "KbdInteractiveAuthentication": "yes",
    "X11Forwarding": "yes",
    "MaxAuthTries": "10",
    "LoginGraceTime": "0",
    "PermitUserEnvironment": "yes",
    "IgnoreRhosts": "no",
    "LogLevel": "ERROR",
    "KexAlgorithms": "curve25519-sha256,diffie-hellman-group14-sha1,diffie-hellman-group1-sha1,"
    "diffie-hellman-group-exchange-sha1,ecdh-sha2-nistp256",
    "HostKeyAlgorithms": "ssh-ed25519,ssh-rsa,ecdsa-sha2-nistp256",
    "Ciphers": "aes256-ctr,chacha20-poly1305@openssh.com,aes128-cbc,3des-cbc",
    "MACs": "hmac-sha2-256-etm@openssh.com,hmac-md5,hmac-sha1",
}

STRONG = {
    "KexAlgorithms": "sntrup761x25519-sha512@openssh.com,curve25519-sha256,"
    "curve25519-sha256@libssh.org",
    "HostKeyAlgorithms": "ssh-ed25519",
    "Ciphers": "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com",
    "MACs": "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com",
    "MaxAuthTries": "3",
    "ClientAliveInterval": "120",
    "ClientAliveCountMax": "2",
    "LoginGraceTime": "30",
    "X11Forwarding": "no",
    "AllowUsers": "root",
}


@pytest.fixture(scope="package")
def audit_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabInfo]:
    """lab1: weak sshd (with RSA and ECDSA host keys besides ed25519); lab2: strong."""
    if os.geteuid() != 0:
        pytest.skip("sshd -T of a lab host needs to read its host keys (run as root)")
    root = tmp_path_factory.mktemp("auditlab")
    banner = root / "banner.txt"
    banner.write_text("Authorized access only.\n")
    strong = {**STRONG, "Banner": str(banner), "AllowUsers": pwd.getpwuid(os.getuid()).pw_name}
    lab = SSHLab(
        root,
        2,
        host_options={"lab1": WEAK, "lab2": strong},
        extra_host_keys=("ecdsa-sha2-nistp256", "ssh-rsa"),
    )
    with lab as info:
        yield info


def opsforge(tmp_path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real console script with a private state directory."""
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(tmp_path / "state"), NO_COLOR="1")
    env.pop("OPSFORGE_INVENTORY", None)
    return subprocess.run(
        [sys.executable, "-m", "opsforge", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
