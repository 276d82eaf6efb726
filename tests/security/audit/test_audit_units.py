"""Grading, policy files, and the parsers of what a host prints (data in, verdicts out)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.security.audit import Baseline, Policy, PolicyError, SshdFacts, grade, load_policy
from opsforge.security.audit.baseline_rules import baseline_verdicts
from opsforge.security.audit.checks import CHECKS, checks_for
from opsforge.security.audit.grading import modulus_grade
from opsforge.security.audit.sshd_rules import sshd_verdicts, wire_verdicts
from opsforge.security.audit.wire import ServerOffer


@pytest.mark.parametrize(
    ("category", "name", "level"),
    [
        ("kex", "diffie-hellman-group1-sha1", "fail"),
        ("kex", "diffie-hellman-group14-sha1", "fail"),
        ("kex", "ecdh-sha2-nistp256", "fail"),
        ("kex", "diffie-hellman-group14-sha256", "warn"),
        ("kex", "curve25519-sha256", "ok"),
        ("kex", "sntrup761x25519-sha512@openssh.com", "ok"),
        ("kex", "gss-gex-sha1-toWM5Slw5Ew8Mqkay+al2g==", "fail"),
        ("host_key", "ssh-rsa", "fail"),
        ("host_key", "ecdsa-sha2-nistp384", "fail"),
        ("host_key", "rsa-sha2-512", "ok"),
        ("host_key", "ssh-ed25519", "ok"),
        ("cipher", "3des-cbc", "fail"),
        ("cipher", "aes256-cbc", "warn"),
        ("cipher", "aes128-gcm@openssh.com", "ok"),
        ("mac", "hmac-sha1", "fail"),
        ("mac", "hmac-sha1-etm@openssh.com", "fail"),
        ("mac", "hmac-sha2-256", "warn"),
        ("mac", "umac-64-etm@openssh.com", "warn"),
        ("mac", "hmac-sha2-512-etm@openssh.com", "ok"),
        ("mac", "made-up@example.com", "unknown"),
    ],
)
def test_grades_follow_ssh_audit(category: str, name: str, level: str) -> None:
    assert grade(category, name).level == level


def test_modulus_grades() -> None:
    small = modulus_grade(1024)
    assert small is not None
    assert small.level == "fail"
    mid = modulus_grade(2048)
    assert mid is not None
    assert mid.level == "warn"
    assert modulus_grade(4096) is None


def test_every_check_is_described() -> None:
    assert len(CHECKS) == len(checks_for("ssh")) + len(checks_for("baseline"))
    for check in CHECKS.values():
        assert check.id.startswith(("ssh.", "baseline."))
        assert check.title
        assert check.rationale
        assert check.remediation
        assert check.tool == "audit"


SSHD_T = """@@user alice
@@rc 0
port 22
permitrootlogin without-password
passwordauthentication no
kbdinteractiveauthentication no
maxauthtries 3
clientaliveinterval 300
clientalivecountmax 3
logingracetime 60
loglevel VERBOSE
banner /etc/issue.net
allowgroups ssh-users admins
x11forwarding no
hostbasedauthentication no
ignorerhosts yes
permituserenvironment no
permitemptypasswords no
hostkey /etc/ssh/ssh_host_ed25519_key
@@hostkeys
600 root root /etc/ssh/ssh_host_ed25519_key
@@first
include /etc/ssh/sshd_config.d/*.conf
"""


def test_sshd_facts_parse_and_pass() -> None:
    info = SshdFacts().parse(SSHD_T, 0)
    assert info.user == "alice"
    assert info.ok
    assert info.values("allowgroups") == ("ssh-users", "admins")
    assert info.first_directive == "include /etc/ssh/sshd_config.d/*.conf"
    assert [v.message for v in sshd_verdicts(info, Policy()) if v.message] == []
    strict = sshd_verdicts(info, Policy(permit_root_login="no"))
    assert [v.check_id for v in strict if v.message] == ["ssh.permit-root-login"]


def test_sshd_facts_failure_is_kept() -> None:
    info = SshdFacts().parse("@@user bob\n@@rc 1\nsshd: no hostkeys available -- exiting.\n", 0)
    assert not info.ok
    assert "no hostkeys" in info.error
    with pytest.raises(ValueError, match="no sshd -T status"):
        SshdFacts().parse("garbage", 0)


def test_wire_verdicts_fix_keeps_only_strong_algorithms() -> None:
    offer = ServerOffer(
        banner="SSH-2.0-OpenSSH_9.2",
        kex=("curve25519-sha256", "diffie-hellman-group-exchange-sha256", "ext-info-s"),
        host_key=("ssh-ed25519", "ssh-rsa"),
        ciphers=("aes128-cbc", "aes256-gcm@openssh.com"),
        macs=("hmac-sha1", "hmac-sha2-256-etm@openssh.com"),
        compression=("none",),
        gex_modulus_bits=2048,
    )
    verdicts = {v.check_id: v for v in wire_verdicts(offer, Policy())}
    assert verdicts["ssh.weak-kex"].message is None
    assert verdicts["ssh.small-dh-modulus"].message is not None  # 2048 < 3072
    assert verdicts["ssh.weak-kex"].fix == (("KexAlgorithms", "curve25519-sha256"),)
    assert verdicts["ssh.weak-host-key"].fix == (("HostKeyAlgorithms", "ssh-ed25519"),)
    assert verdicts["ssh.weak-cipher"].failing is False  # CBC: warn only
    assert verdicts["ssh.weak-mac"].failing is True
    assert verdicts["ssh.terrapin"].message is not None  # -etm without strict kex
    only_weak = ServerOffer("x", ("curve25519-sha256",), ("ssh-rsa",), (), (), ())
    host_key = next(
        v for v in wire_verdicts(only_weak, Policy()) if v.check_id.endswith("host-key")
    )
    assert host_key.fix == ()
    assert "every offered host key algorithm is weak" in host_key.why_no_fix


BASELINE = """file 644 root shadow /etc/shadow
file 640 root shadow /etc/gshadow
file 664 root root /etc/passwd
file 644 root root /etc/group
empty guest
uid0 toor
ww 777 root root /usr/local/bin/tool
nopasswd /etc/sudoers.d/deploy:3:deploy ALL=(ALL) NOPASSWD: ALL
pm apt
aptconf APT::Periodic::Update-Package-Lists "1";
aptconf APT::Periodic::Unattended-Upgrade "0";
uu install ok installed
net tcp 0: 00000000:0016 00000000:0000 0A 0 0 0 0 0 111 1
net tcp 1: 00000000:1F90 00000000:0000 0A 0 0 0 0 0 222 1
net tcp 2: 0100007F:1F91 00000000:0000 0A 0 0 0 0 0 333 1
net tcp6 0: 00000000000000000000000000000000:0050 {zero6}:0000 0A 0 0 0 0 0 444 1
net udp 0: 00000000:0044 00000000:0000 07 0 0 0 0 0 555 1
fd /proc/77/fd socket:[222]
comm 77 python3
""".replace("{zero6}", "0" * 32)


def test_baseline_parse_and_verdicts() -> None:
    info = Baseline().parse(BASELINE, 0)
    assert [(x.proto, x.address, x.port, x.process) for x in info.listeners] == [
        ("tcp", "0.0.0.0", 22, ""),
        ("tcp", "::", 80, ""),
        ("tcp", "0.0.0.0", 8080, "python3"),
        ("udp", "0.0.0.0", 68, ""),
    ]
    found = {(v.check_id, v.key): v for v in baseline_verdicts(info, None, Policy()) if v.message}
    assert set(found) == {
        ("baseline.shadow-permissions", "/etc/shadow"),
        ("baseline.passwd-permissions", "/etc/passwd"),
        ("baseline.empty-password", "guest"),
        ("baseline.uid0", "toor"),
        ("baseline.path-world-writable", "/usr/local/bin/tool"),
        ("baseline.sudo-nopasswd", "/etc/sudoers.d/deploy:deploy ALL=(ALL) NOPASSWD: ALL"),
        ("baseline.unattended-upgrades", None),
        ("baseline.listen-any", "tcp/80/::"),
        ("baseline.listen-any", "tcp/8080/0.0.0.0"),
        ("baseline.listen-any", "udp/68/0.0.0.0"),
    }
    assert found[("baseline.shadow-permissions", "/etc/shadow")].fix == (
        ("mode", "/etc/shadow", "0640", "root", "shadow"),
    )
    assert found[("baseline.path-world-writable", "/usr/local/bin/tool")].fix == (
        ("chmod", "/usr/local/bin/tool", "0775"),
    )
    allowed = Policy(listen_allowed=(22, 68, 80, 8080))
    assert not [v for v in baseline_verdicts(info, None, allowed) if v.check_id.endswith("any")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n", ":1: a policy file is a mapping"),
        ("max_auth_tries: 4\nbogus: 1\n", ":2: unknown policy setting 'bogus'"),
        ("max_auth_tries: many\n", ":1: 'max_auth_tries' must be a whole number from 1 to 100"),
        ("disable: [ssh.nope]\n", ":1: unknown check(s) ssh.nope"),
        ("log_level: DEBUG\n", ":1: 'log_level' must be INFO or VERBOSE"),
        ("listen_allowed: [22, 70000]\n", ":1: 'listen_allowed' must be a whole number"),
        ("banner: issue.net\n", ":1: 'banner' must be an absolute path"),
        ("allow_users: alice\n", ":1: 'allow_users' must be a list of names"),
        ("a: [\n", ": not valid YAML"),
    ],
)
def test_malformed_policy_names_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "policy.yml"
    path.write_text(text)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_policy_file_overrides_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    path.write_text("permit_root_login: without-password\nallow_groups: [ops]\n")
    policy = load_policy(path)
    assert policy.permit_root_login == "prohibit-password"
    assert policy.allow_groups == ("ops",)
    assert load_policy(None) == Policy()
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "missing.yml")
