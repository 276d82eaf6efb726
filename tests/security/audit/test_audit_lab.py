"""opsforge audit against real sshd: a weak and a strong configuration, the wire
algorithms read from the server's KEXINIT, reports, bad input."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from opsforge.connectors.pool import ConnectionPool
from opsforge.security.audit import AuditSettings, audit_host, read_server_offer
from opsforge.testing import LabInfo

from .conftest import opsforge

SSH_CONFIG_RULES = {
    "ssh.permit-root-login",
    "ssh.password-authentication",
    "ssh.kbd-interactive",
    "ssh.x11-forwarding",
    "ssh.max-auth-tries",
    "ssh.client-alive",
    "ssh.login-grace-time",
    "ssh.ignore-rhosts",
    "ssh.permit-user-environment",
    "ssh.log-level",
    "ssh.banner",
    "ssh.allow-users-groups",
}
WIRE_RULES = {"ssh.weak-kex", "ssh.weak-host-key", "ssh.weak-cipher", "ssh.weak-mac"}


def _audit(lab: LabInfo, name: str, profile: str = "ssh") -> Any:
    async def run() -> Any:
        async with ConnectionPool(lab.connect_options()) as pool:
            spec = lab.host_spec(name)
            return await audit_host(await pool.get(spec), spec, AuditSettings(profile), None)

    return asyncio.run(run())


def test_wire_offer_is_what_sshd_was_configured_with(audit_lab: LabInfo) -> None:
    weak = asyncio.run(read_server_offer("127.0.0.1", audit_lab.host("lab1").port))
    assert weak.banner.startswith("SSH-2.0-OpenSSH_")
    assert weak.ciphers == (
        "aes256-ctr",
        "chacha20-poly1305@openssh.com",
        "aes128-cbc",
        "3des-cbc",
    )
    assert set(weak.host_key) == {"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256"}
    assert weak.macs == ("hmac-sha2-256-etm@openssh.com", "hmac-md5", "hmac-sha1")
    assert "diffie-hellman-group1-sha1" in weak.kex
    assert weak.gex_modulus_bits is not None
    assert weak.gex_modulus_bits >= 2048
    strong = asyncio.run(read_server_offer("127.0.0.1", audit_lab.host("lab2").port))
    assert strong.host_key == ("ssh-ed25519",)
    assert strong.gex_modulus_bits is None  # no group exchange offered


def test_weak_sshd_fails_every_configured_check(audit_lab: LabInfo) -> None:
    audit = _audit(audit_lab, "lab1")
    assert not audit.problems
    assert audit.round_trips == 1  # sshd -T and the host key modes in one script
    found = {f.rule_id: f for f in audit.findings()}
    assert set(found) >= SSH_CONFIG_RULES | WIRE_RULES
    assert "PermitRootLogin is yes" in found["ssh.permit-root-login"].message
    assert "LoginGraceTime is 0 (unlimited)" in found["ssh.login-grace-time"].message
    for weak in ("3des-cbc", "aes128-cbc"):
        assert weak in found["ssh.weak-cipher"].message
    for weak in ("hmac-md5", "hmac-sha1"):
        assert weak in found["ssh.weak-mac"].message
    assert "ssh-rsa" in found["ssh.weak-host-key"].message
    assert "ecdsa-sha2-nistp256" in found["ssh.weak-host-key"].message
    assert "ssh-ed25519" not in found["ssh.weak-host-key"].message
    assert "diffie-hellman-group1-sha1" in found["ssh.weak-kex"].message
    assert "curve25519" not in found["ssh.weak-kex"].message
    cfg = str(audit_lab.sshd_config_path("lab1"))
    assert found["ssh.permit-root-login"].location.path == cfg  # config checks: the file
    assert found["ssh.weak-mac"].location.path is None  # wire checks: the host
    assert all(f.location.host == "lab1" and f.tool == "audit" for f in found.values())
    assert all(f.rationale and f.remediation for f in found.values())


def test_strong_sshd_is_clean(audit_lab: LabInfo) -> None:
    audit = _audit(audit_lab, "lab2")
    assert not audit.problems
    assert [f.message for f in audit.findings()] == []


def test_cli_text_json_and_sarif(
    audit_lab: LabInfo, tmp_path: Path, validate_sarif: Callable[[Any], None]
) -> None:
    inv = str(audit_lab.inventory_path)
    text = opsforge(tmp_path, "audit", "all", "-i", inv, "--profile", "ssh")
    assert text.returncode == 1, text.stderr
    assert "lab1: " in text.stdout
    assert "lab2: " not in text.stdout
    assert "ssh.weak-cipher" in text.stdout
    assert "fix:" in text.stdout
    assert "2/2 hosts" in text.stderr
    clean = opsforge(tmp_path, "audit", "lab2", "-i", inv, "--profile", "ssh")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    doc = opsforge(tmp_path, "audit", "all", "-i", inv, "--profile", "ssh", "--format", "json")
    data = json.loads(doc.stdout)
    rules = {f["rule_id"] for f in data["findings"]}
    assert rules >= SSH_CONFIG_RULES | WIRE_RULES
    sarif = tmp_path / "audit.sarif"
    args = ("--profile", "ssh", "--format", "sarif", "--report", str(sarif))
    run = opsforge(tmp_path, "audit", "all", "-i", inv, *args)
    assert run.returncode == 1
    assert run.stdout == ""
    log = json.loads(sarif.read_text())
    validate_sarif(log)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == rules
    assert all(r["locations"][0]["logicalLocations"][0]["name"] == "lab1" for r in results)
    # a baseline of this run hides every finding: exit 0
    again = opsforge(
        tmp_path, "audit", "all", "-i", inv, "--profile", "ssh", "--baseline", str(sarif)
    )
    assert again.returncode == 0, again.stdout
    assert "in the baseline" in again.stderr


def test_fail_on_threshold(audit_lab: LabInfo, tmp_path: Path) -> None:
    inv = str(audit_lab.inventory_path)
    run = opsforge(
        tmp_path, "audit", "lab1", "-i", inv, "--profile", "ssh", "--fail-on", "critical"
    )
    assert run.returncode == 0, run.stderr


def test_unreachable_host_is_reported_and_others_are_audited(
    audit_lab: LabInfo, tmp_path: Path
) -> None:
    inventory = yaml.safe_load(audit_lab.inventory_path.read_text())
    hosts = inventory["all"]["hosts"]
    hosts["gone"] = {**hosts["lab2"], "ansible_port": 1}  # nothing listens on port 1
    inv = tmp_path / "inv.yml"
    inv.write_text(yaml.safe_dump(inventory))
    run = opsforge(tmp_path, "audit", "lab2:gone", "-i", str(inv), "--profile", "ssh")
    assert run.returncode == 3, run.stdout + run.stderr
    assert "not checked: gone" in run.stdout
    assert "refused" in run.stdout
    assert "Traceback" not in run.stderr
    assert "1/2 hosts" in run.stderr
    args = ("--profile", "ssh", "--format", "sarif")
    sarif = opsforge(tmp_path, "audit", "lab2:gone", "-i", str(inv), *args)
    assert sarif.returncode == 3
    invocation = json.loads(sarif.stdout)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False


def test_bad_profile_and_policy(audit_lab: LabInfo, tmp_path: Path) -> None:
    inv = str(audit_lab.inventory_path)
    bad = opsforge(tmp_path, "audit", "all", "-i", inv, "--profile", "sshd")
    assert bad.returncode == 2
    assert "'sshd' is not one of 'ssh', 'baseline', 'all'" in bad.stderr
    policy = tmp_path / "policy.yml"
    policy.write_text("max_auth_tries: 4\npermit_root_login: maybe\n")
    run = opsforge(tmp_path, "audit", "all", "-i", inv, "--policy", str(policy))
    assert run.returncode == 2
    assert f"{policy}:2: 'permit_root_login' must be one of" in run.stderr
    assert "Traceback" not in run.stderr
    policy.write_text("disable: [ssh.banner\n")
    run = opsforge(tmp_path, "audit", "all", "-i", inv, "--policy", str(policy))
    assert run.returncode == 2
    assert f"{policy}:" in run.stderr
    assert "not valid YAML" in run.stderr


def test_policy_file_changes_the_verdicts(audit_lab: LabInfo, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "permit_root_login: yes\nmax_auth_tries: 10\n"
        "disable: [ssh.weak-kex, ssh.weak-cipher]\naccept_algorithms: [hmac-md5]\n"
    )
    inv = str(audit_lab.inventory_path)
    run = opsforge(
        tmp_path,
        "audit",
        "lab1",
        "-i",
        inv,
        "--profile",
        "ssh",
        "--policy",
        str(policy),
        "--format",
        "json",
    )
    found = {f["rule_id"]: f for f in json.loads(run.stdout)["findings"]}
    assert not {"ssh.permit-root-login", "ssh.max-auth-tries", "ssh.weak-kex"} & set(found)
    assert "ssh.weak-cipher" not in found
    assert "hmac-md5" not in found["ssh.weak-mac"]["message"]
    assert "hmac-sha1" in found["ssh.weak-mac"]["message"]


def test_json_events_and_report_do_not_mix(audit_lab: LabInfo, tmp_path: Path) -> None:
    inv = str(audit_lab.inventory_path)
    run = opsforge(tmp_path, "audit", "all", "-i", inv, "-o", "json", "--format", "sarif")
    assert run.returncode == 2
    assert "--report FILE" in run.stderr
