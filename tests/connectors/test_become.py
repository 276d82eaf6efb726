"""sudo with a password, over SSH, as a real unprivileged user (needs root to set up).

The fixture creates the user ``opsforge-test`` with a password, a sudoers drop-in
that requires that password, and a one-host lab that user can log into with the
lab key; all three are removed at the end.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from opsforge.connectors.local import LocalConnector
from opsforge.connectors.remote_shell import BECOME_NEEDS_PASSWORD
from opsforge.connectors.ssh import SSHConnector
from opsforge.errors import AuthError, BecomeError, CommandTimeout, TransferError
from opsforge.testing import LabInfo, SSHLab, wait_gone
from opsforge.types import Become, HostSpec, Secret

from .conftest import arun, sleeper, upload_started

pytestmark = pytest.mark.root

USER = "opsforge-test"
SUDOERS = Path("/etc/sudoers.d/opsforge-test")


@dataclass
class SudoLab:
    info: LabInfo
    password: str
    secure_dir: Path  # root-only directory

    def spec(self) -> HostSpec:
        return self.info.host_spec("lab1", user=USER)

    def become(self, password: str | None = None, user: str = "root") -> Become:
        return Become(user=user, password=Secret(password or self.password))


def _missing_tools() -> str | None:
    if os.geteuid() != 0:
        return "needs root (creates a user and a sudoers drop-in)"
    for tool in ("useradd", "userdel", "chpasswd", "sudo"):
        if shutil.which(tool) is None and shutil.which(tool, path="/usr/sbin:/sbin") is None:
            return f"{tool} not installed"
    return None


def _remove_user() -> None:
    SUDOERS.unlink(missing_ok=True)
    with_user = subprocess.run(["id", USER], capture_output=True, check=False)
    if with_user.returncode == 0:
        subprocess.run(["userdel", "-r", "-f", USER], capture_output=True, check=False)


@pytest.fixture(scope="module")
def sudo_lab() -> Iterator[SudoLab]:
    reason = _missing_tools()
    if reason:
        pytest.skip(reason)
    _remove_user()  # a previous run that died half-way
    password = secrets.token_urlsafe(12)
    root = Path(tempfile.mkdtemp(prefix="opsforge-sudo-lab-"))
    root.chmod(0o755)  # the user's sshd session reads the lab's public key through it
    try:
        subprocess.run(["useradd", "-m", "-s", "/bin/sh", USER], check=True)
        subprocess.run(["chpasswd"], input=f"{USER}:{password}\n", text=True, check=True)
        SUDOERS.write_text(
            f"Defaults:{USER} !lecture, timestamp_timeout=0\n{USER} ALL=(ALL:ALL) ALL\n"
        )
        SUDOERS.chmod(0o440)
        secure = root / "secure"
        secure.mkdir(mode=0o700)
        with SSHLab(root / "lab", 1, sshd_options={"PasswordAuthentication": "yes"}) as info:
            yield SudoLab(info, password, secure)
    finally:
        _remove_user()
        shutil.rmtree(root, ignore_errors=True)


async def _run(lab: SudoLab, command: str, **kwargs: object) -> str:
    async with SSHConnector(lab.spec(), lab.info.connect_options()) as conn:
        result = await conn.run(command, **kwargs)  # type: ignore[arg-type]
        assert result.ok, result
        return result.stdout


def test_login_user_is_unprivileged(sudo_lab: SudoLab) -> None:
    assert arun(_run(sudo_lab, "id -un")) == f"{USER}\n"


def test_password_login(sudo_lab: SudoLab) -> None:
    spec = sudo_lab.info.host_spec("lab1", user=USER, identity_files=(), password=Secret("x"))
    with pytest.raises(AuthError, match="password"):
        arun(SSHConnector(spec, sudo_lab.info.connect_options()).connect())

    async def main() -> str:
        good = replace(spec, password=Secret(sudo_lab.password))
        async with SSHConnector(good, sudo_lab.info.connect_options()) as conn:
            return (await conn.run("id -un")).stdout

    assert arun(main()) == f"{USER}\n"


def test_become_root_with_password(sudo_lab: SudoLab) -> None:
    assert arun(_run(sudo_lab, "id -u", become=sudo_lab.become())) == "0\n"


def test_become_another_user_with_env_and_cwd(sudo_lab: SudoLab) -> None:
    out = arun(
        _run(
            sudo_lab,
            'id -un; echo "$X"; pwd',
            become=sudo_lab.become(user="nobody"),
            env={"X": "kept through sudo"},
            cwd="/",
        )
    )
    assert out == "nobody\nkept through sudo\n/\n"


def test_stdin_reaches_the_command_not_sudo(sudo_lab: SudoLab) -> None:
    data = "line one\nline two\n" * 1000
    out = arun(_run(sudo_lab, "cat", become=sudo_lab.become(), stdin=data))
    assert out == data
    assert sudo_lab.password not in out


def test_wrong_password_is_a_become_error(sudo_lab: SudoLab) -> None:
    with pytest.raises(BecomeError, match="wrong password") as caught:
        arun(_run(sudo_lab, "id -u", become=sudo_lab.become(password="not-it"), timeout=30))
    assert caught.value.host == "lab1"


def test_missing_password_says_how_to_give_one(sudo_lab: SudoLab) -> None:
    with pytest.raises(BecomeError) as caught:
        arun(_run(sudo_lab, "id -u", become=Become(), timeout=30))
    assert caught.value.message == BECOME_NEEDS_PASSWORD


def test_timeout_with_become_kills_root_processes(sudo_lab: SudoLab) -> None:
    command, patterns = sleeper()
    with pytest.raises(CommandTimeout):
        arun(_run(sudo_lab, command, become=sudo_lab.become(), timeout=1.5))
    for pattern in patterns:
        assert wait_gone(pattern) == [], pattern


def test_put_with_become_into_a_root_only_directory(sudo_lab: SudoLab) -> None:
    dest = sudo_lab.secure_dir / "config"
    data = os.urandom(300_000)

    async def main() -> None:
        async with SSHConnector(sudo_lab.spec(), sudo_lab.info.connect_options()) as conn:
            with pytest.raises(TransferError, match="permission denied"):
                await conn.put(data, str(dest))
            await conn.put(data, str(dest), mode=0o640, group="nogroup", become=sudo_lab.become())

    arun(main())
    st = dest.stat()
    assert dest.read_bytes() == data
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, pwd.getpwnam("nobody").pw_gid, 0o640)
    assert not [p for p in sudo_lab.secure_dir.iterdir() if ".opsforge-" in p.name]


def test_interrupted_put_with_become_leaves_no_temp(sudo_lab: SudoLab, tmp_path: Path) -> None:
    dest = sudo_lab.secure_dir / "big"
    dest.write_bytes(b"old")
    src = tmp_path / "sparse"
    with src.open("wb") as handle:
        handle.truncate(2 * 1024**3)
    os.chmod(tmp_path, 0o755)

    async def main() -> None:
        async with SSHConnector(sudo_lab.spec(), sudo_lab.info.connect_options()) as conn:
            task = asyncio.ensure_future(conn.put(src, str(dest), become=sudo_lab.become()))
            while not upload_started(sudo_lab.secure_dir, "big"):
                assert not task.done()
                await asyncio.sleep(0.005)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    arun(main())
    assert dest.read_bytes() == b"old"
    assert not [p for p in sudo_lab.secure_dir.iterdir() if ".opsforge-" in p.name]


def test_local_become_as_root_needs_no_password(tmp_path: Path) -> None:
    dest = tmp_path / "by-sudo"

    async def main() -> str:
        async with LocalConnector(HostSpec(name="@local", connector="local")) as conn:
            await conn.put(b"via sudo", str(dest), mode=0o600, owner="nobody", become=Become())
            return (await conn.run("id -u; cat", become=Become(), stdin="in")).stdout

    assert arun(main()) == "0\nin"
    assert dest.read_bytes() == b"via sudo"
    assert dest.stat().st_uid == pwd.getpwnam("nobody").pw_uid


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import sys

    full = dict(os.environ, NO_COLOR="1", **env)
    full.pop("OPSFORGE_BECOME_PASSWORD", None)
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "opsforge", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=60,
        check=False,
    )


def test_cli_become_password_from_environment(sudo_lab: SudoLab, tmp_path: Path) -> None:
    env = {"OPSFORGE_STATE_DIR": str(tmp_path), "OPSFORGE_BECOME_PASSWORD": sudo_lab.password}
    inv = str(sudo_lab.info.inventory)
    proc = _cli("exec", "lab1", "-i", inv, "-u", USER, "--become", "--", "id -u", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "lab1 | 0"
    env["OPSFORGE_BECOME_PASSWORD"] = "wrong"
    proc = _cli("exec", "lab1", "-i", inv, "-u", USER, "--become", "--", "id -u", env=env)
    assert proc.returncode == 1
    assert "password" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_become_password_from_inventory(sudo_lab: SudoLab, tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load(sudo_lab.info.inventory.read_text())
    data["all"]["vars"].update(
        ansible_user=USER, ansible_become=True, ansible_become_password=sudo_lab.password
    )
    inv = tmp_path / "inventory.yml"
    inv.write_text(yaml.safe_dump(data))
    proc = _cli(
        "exec", "lab1", "-i", str(inv), "--", "id -un", env={"OPSFORGE_STATE_DIR": str(tmp_path)}
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "lab1 | root"
