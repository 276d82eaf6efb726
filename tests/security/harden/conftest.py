"""Fresh weak lab hosts for hardening (each test changes its host, so each gets its own)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from opsforge.testing import LabInfo, SSHLab

WEAK = {
    "PermitRootLogin": "yes",
    "PasswordAuthentication": "yes",
    "X11Forwarding": "yes",
    "MaxAuthTries": "10",
    "LoginGraceTime": "0",
    "KexAlgorithms": "curve25519-sha256,diffie-hellman-group14-sha1,ecdh-sha2-nistp256,"
    "diffie-hellman-group-exchange-sha256",
    "HostKeyAlgorithms": "ssh-ed25519,ssh-rsa,ecdsa-sha2-nistp256",
    "Ciphers": "aes256-ctr,chacha20-poly1305@openssh.com,aes128-cbc,3des-cbc",
    "MACs": "hmac-sha2-256-etm@openssh.com,hmac-md5,hmac-sha1",
}

WeakLab = Callable[..., LabInfo]


@pytest.fixture
def weak_lab(tmp_path: Path) -> Iterator[WeakLab]:
    """Start an n-host lab of weak sshd configs (with ECDSA and RSA host keys too)."""
    if os.geteuid() != 0:
        pytest.skip("sshd -T and harden of a lab host need root (host keys, pidfile)")
    labs: list[SSHLab] = []

    def start(n: int = 1, **options: str) -> LabInfo:
        lab = SSHLab(
            tmp_path / f"lab{len(labs)}",
            n,
            sshd_options={**WEAK, **options},
            extra_host_keys=("ecdsa-sha2-nistp256", "ssh-rsa"),
        )
        labs.append(lab)
        return lab.start()

    yield start
    for lab in labs:
        lab.stop()
