"""opsforge harden against real sshd on 127.0.0.1: check/diff, apply with sshd -t and a
reload, an audit that is clean after, the session still working, a second run with
nothing to change, the lock-out guard, sshd -t failing, and the rollback after a new
login fails."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import yaml

from opsforge.connectors.known_hosts import known_hosts_line
from opsforge.connectors.pool import ConnectionPool
from opsforge.deploy.planner import DeploySettings
from opsforge.deploy.run import DeployRun, build_plan
from opsforge.engine import HostOutcome, run_host_plan
from opsforge.security.audit import AuditSettings, load_policy
from opsforge.security.harden import (
    HardenResult,
    HardenRun,
    Remediation,
    SshdTarget,
    harden_deploy,
    run_harden,
)
from opsforge.templating import TemplateEngine
from opsforge.testing import LabInfo, lab_files

from ..audit.conftest import opsforge
from .conftest import WeakLab


def _policy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yml"
    path.write_text(text)
    return path


def _findings(tmp_path: Path, inv: str, *args: str) -> dict[str, dict[str, object]]:
    run = opsforge(
        tmp_path, "audit", "all", "-i", inv, "--profile", "ssh", "--format", "json", *args
    )
    assert run.returncode in (0, 1), run.stderr
    return {f["rule_id"]: f for f in json.loads(run.stdout)["findings"]}


def test_check_diff_then_harden_then_clean_and_idempotent(
    weak_lab: WeakLab, tmp_path: Path
) -> None:
    lab = weak_lab(1)
    inv = str(lab.inventory_path)
    conf = lab.sshd_config_path("lab1")
    original = conf.read_text()
    policy = _policy(tmp_path, f"allow_users: [{lab.user}]\n")
    before = _findings(tmp_path, inv)
    assert {"ssh.permit-root-login", "ssh.weak-cipher", "ssh.weak-mac"} <= set(before)

    check = opsforge(tmp_path, "harden", "all", "-i", inv, "--profile", "ssh",
                     "--policy", str(policy), "--check", "--diff")  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert "+PermitRootLogin prohibit-password" in check.stdout + check.stderr
    assert "+Ciphers aes256-ctr,chacha20-poly1305@openssh.com" in check.stdout + check.stderr
    assert "would change" in check.stdout + check.stderr
    assert conf.read_text() == original  # --check changed nothing
    assert _findings(tmp_path, inv).keys() == before.keys()

    applied = opsforge(tmp_path, "harden", "all", "-i", inv, "--profile", "ssh",
                       "--policy", str(policy))  # fmt: skip
    assert applied.returncode == 0, applied.stdout + applied.stderr
    out = applied.stdout + applied.stderr
    assert "changed | sshd hardening" in out
    assert "reload sshd" in out
    text = conf.read_text()
    assert text.startswith("# BEGIN OPSFORGE HARDENING")
    assert "PermitRootLogin prohibit-password\n" in text  # root logs in: key-only, not "no"
    assert f"AllowUsers {lab.user}\n" in text
    assert not list(conf.parent.glob("*.opsforge-prev"))  # new login verified: backup gone
    assert _findings(tmp_path, inv, "--policy", str(policy)) == {}  # clean

    again = opsforge(tmp_path, "harden", "all", "-i", inv, "--profile", "ssh",
                     "--policy", str(policy))  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "| changed |" not in again.stdout + again.stderr
    assert "1 ok" in again.stderr
    assert conf.read_text() == text


def test_the_session_that_hardened_still_works(weak_lab: WeakLab) -> None:
    lab = weak_lab(1)
    spec = lab.host_spec("lab1")

    async def go() -> tuple[str, str, HardenResult]:
        result = HardenResult()
        run = HardenRun([spec], AuditSettings("ssh"), lab.connect_options())
        async with ConnectionPool(lab.connect_options()) as pool:
            summary, _ = await run_harden(run, result, pool, [], lambda executor: None)
            assert summary.host_status["lab1"].value == "changed"
            conn = await pool.get(spec)  # the connection that applied it
            same = await conn.run("echo still-here")
        async with ConnectionPool(lab.connect_options()) as fresh:
            new = await (await fresh.get(spec)).run("echo new-login")
        return same.stdout, new.stdout, result

    same, new, result = asyncio.run(go())
    assert same.strip() == "still-here"
    assert new.strip() == "new-login"
    assert result.rolled_back == {}
    assert "PasswordAuthentication no" in lab.sshd_config_path("lab1").read_text()


def test_lock_out_guard_refuses_and_applies_the_rest(weak_lab: WeakLab, tmp_path: Path) -> None:
    lab = weak_lab(1)
    inv = str(lab.inventory_path)
    policy = _policy(tmp_path, "permit_root_login: 'no'\nallow_users: [somebody-else]\n")
    run = opsforge(
        tmp_path, "harden", "all", "-i", inv, "--profile", "ssh", "--policy", str(policy)
    )
    assert run.returncode == 1, run.stderr
    if lab.user == "root":
        assert (
            "refused lab1: ssh.permit-root-login: PermitRootLogin no would lock out" in run.stderr
        )
    assert "AllowUsers somebody-else would lock out this session's user" in run.stderr
    text = lab.sshd_config_path("lab1").read_text()
    assert "AllowUsers" not in text
    assert "PasswordAuthentication no" in text  # the rest applied
    ok = opsforge(tmp_path, "exec", "all", "-i", inv, "--", "true")
    assert ok.returncode == 0, ok.stderr


def test_broken_sshd_config_is_reported_not_touched(weak_lab: WeakLab, tmp_path: Path) -> None:
    lab = weak_lab(1)
    conf = lab.sshd_config_path("lab1")
    with conf.open("a") as handle:  # broken after sshd started: only sshd -T/-t see it
        handle.write("NoSuchOption yes\n")
    broken = conf.read_text()
    inv = str(lab.inventory_path)
    run = opsforge(tmp_path, "audit", "all", "-i", inv, "--profile", "ssh")
    assert run.returncode == 1  # the wire findings; the config could not be read
    assert "not checked: lab1" in run.stdout
    assert "NoSuchOption" in run.stdout
    harden = opsforge(tmp_path, "harden", "all", "-i", inv, "--profile", "ssh")
    assert harden.returncode == 0, harden.stderr
    assert "not fixed lab1: sshd -T" in harden.stderr
    assert conf.read_text() == broken  # nothing planned on an unreadable config


def test_sshd_t_rejects_and_the_previous_file_is_back(weak_lab: WeakLab) -> None:
    """The operation writes, runs sshd -t, and puts the old file back when it fails."""
    lab = weak_lab(1)
    spec = lab.host_spec("lab1")
    conf = str(lab.sshd_config_path("lab1"))
    original = Path(conf).read_text()
    bad = Remediation(
        "lab1",
        target=SshdTarget(conf, conf, drop_in=False),
        sshd_lines=(("X11Forwarding", "no"), ("NoSuchOption", "yes")),
        reload_command="echo reloaded",
    )
    settings = DeploySettings(base_dir=".", templates=TemplateEngine([]))
    run = DeployRun(harden_deploy({"lab1": bad}), settings)

    async def go() -> dict[str, HostOutcome]:
        async with ConnectionPool(lab.connect_options()) as pool:
            _, outcomes = await run_host_plan(build_plan([spec], pool, run))
            return outcomes

    outcome = asyncio.run(go())["lab1"]
    assert outcome.status.value == "failed"
    assert "sshd -t rejected the new configuration" in outcome.message
    assert "NoSuchOption" in outcome.message
    assert Path(conf).read_text() == original
    assert not list(Path(conf).parent.glob("*.opsforge-prev"))


def test_rollback_when_a_new_login_fails(weak_lab: WeakLab, tmp_path: Path) -> None:
    """The client only knows the host's ECDSA key; hardening drops ecdsa-sha2-nistp256,
    so a new login fails: harden puts the previous config back over the open session."""
    lab = weak_lab(1)
    host = lab.host("lab1")
    key = lab_files.ensure_key(lab_files.host_dir(lab.root, "lab1") / "host_ecdsa_sha2_nistp256")
    known = tmp_path / "known_hosts"
    known.write_text(known_hosts_line("127.0.0.1", host.port, key, hashed=False))
    conf = lab.sshd_config_path("lab1")
    original = conf.read_text()
    inventory = yaml.safe_load(lab.inventory_path.read_text())
    del inventory["all"]["vars"]  # its ansible_ssh_common_args name the lab's known_hosts
    inv = str(tmp_path / "inventory.yml")
    Path(inv).write_text(yaml.safe_dump(inventory))
    run = opsforge(tmp_path, "harden", "all", "-i", inv, "--profile", "ssh",
                   "--known-hosts", str(known))  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert "rolled back lab1: new logins failed after the sshd change" in run.stderr
    assert conf.read_text() == original
    assert not list(conf.parent.glob("*.opsforge-prev"))
    again = opsforge(tmp_path, "exec", "all", "-i", inv, "--known-hosts", str(known), "--", "true")
    assert again.returncode == 0, again.stderr  # the old config is live again


def test_unreachable_host_and_bad_input(weak_lab: WeakLab, tmp_path: Path) -> None:
    lab: LabInfo = weak_lab(1)
    inv = f"127.0.0.1:1,{lab.inventory_path}"
    run = opsforge(tmp_path, "harden", "127.0.0.1", "-i", "127.0.0.1:1,", "--profile", "ssh")
    assert run.returncode == 3, run.stderr
    assert "refused" in run.stderr
    assert "Traceback" not in run.stderr
    bad = opsforge(tmp_path, "harden", "all", "-i", inv, "--profile", "nope")
    assert bad.returncode == 2
    policy = _policy(tmp_path, "min_modulus_bits: 512\n")
    bad = opsforge(
        tmp_path, "harden", "all", "-i", str(lab.inventory_path), "--policy", str(policy)
    )
    assert bad.returncode == 2
    assert f"{policy}:1: 'min_modulus_bits' must be a whole number" in bad.stderr
    assert load_policy(None).min_modulus_bits == 3072
