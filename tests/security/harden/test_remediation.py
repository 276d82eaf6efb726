"""plan_remediation is pure: an audit in, the lines and fixes harden will apply out."""

from __future__ import annotations

from opsforge.security.audit import HostAudit, Policy, SshdFacts
from opsforge.security.audit.baseline_rules import baseline_verdicts
from opsforge.security.audit.facts import BaselineInfo, FileMode
from opsforge.security.audit.sshd_rules import sshd_verdicts, wire_verdicts
from opsforge.security.audit.wire import ServerOffer
from opsforge.security.harden import DROP_IN_NAME, plan_remediation
from opsforge.security.harden.sshd_op import BEGIN, END, render_block
from opsforge.types import HostSpec, Secret

WEAK_T = """@@user {user}
@@groups {groups}
@@rc 0
permitrootlogin yes
passwordauthentication yes
kbdinteractiveauthentication no
x11forwarding yes
maxauthtries 6
clientaliveinterval 0
clientalivecountmax 3
logingracetime 120
loglevel INFO
banner none
pidfile /run/sshd.pid
@@hostkeys
@@first
{first}
"""
OFFER = ServerOffer(
    "SSH-2.0-OpenSSH_9.2",
    kex=("curve25519-sha256", "ecdh-sha2-nistp256", "kex-strict-s-v00@openssh.com"),
    host_key=("ssh-ed25519", "ecdsa-sha2-nistp256"),
    ciphers=("chacha20-poly1305@openssh.com", "aes128-cbc"),
    macs=("hmac-sha2-256-etm@openssh.com", "hmac-sha1"),
    compression=("none",),
)


def _audit(
    user: str = "root",
    groups: str = "root",
    first: str = "include /etc/ssh/sshd_config.d/*.conf",
    policy: Policy | None = None,
    baseline: BaselineInfo | None = None,
) -> HostAudit:
    info = SshdFacts().parse(WEAK_T.format(user=user, groups=groups, first=first), 0)
    policy = policy or Policy()
    verdicts = [*sshd_verdicts(info, policy), *wire_verdicts(OFFER, policy)]
    if baseline is not None:
        verdicts += baseline_verdicts(baseline, info, policy)
    return HostAudit("web1", tuple(verdicts), sshd=info, offer=OFFER)


def test_root_session_keeps_key_login_and_drop_in_is_used() -> None:
    plan = plan_remediation(_audit(), HostSpec("web1"), Policy())
    lines = dict(plan.sshd_lines)
    assert lines["PermitRootLogin"] == "prohibit-password"
    assert lines["PasswordAuthentication"] == "no"
    assert lines["KbdInteractiveAuthentication"] == "no"  # passes: pinned as it is
    assert lines["KexAlgorithms"] == "curve25519-sha256"
    assert lines["Ciphers"] == "chacha20-poly1305@openssh.com"
    assert lines["HostKeyAlgorithms"] == "ssh-ed25519"
    assert plan.target is not None
    assert plan.target.path == f"/etc/ssh/sshd_config.d/{DROP_IN_NAME}"
    assert plan.target.drop_in
    assert plan.refused == ()
    assert plan.banner == ("/etc/issue.net", Policy().banner_text)
    assert "kill -HUP" in plan.reload_command
    assert "-t -f /etc/ssh/sshd_config || exit 1" in plan.reload_command.replace("'", "")


def test_lock_out_guard() -> None:
    strict = Policy(permit_root_login="no", allow_groups=("admins",))
    plan = plan_remediation(_audit(policy=strict), HostSpec("web1", password=Secret("pw")), strict)
    assert "PermitRootLogin" not in dict(plan.sshd_lines)
    assert "PasswordAuthentication" not in dict(plan.sshd_lines)
    assert "AllowGroups" not in dict(plan.sshd_lines)
    text = "\n".join(plan.refused)
    assert "PermitRootLogin no would lock out this session (it logs in as root)" in text
    assert "PasswordAuthentication no would lock out this session" in text
    assert "AllowGroups admins would lock out root" in text
    alice = plan_remediation(_audit("alice", "alice admins", policy=strict), HostSpec("w"), strict)
    assert dict(alice.sshd_lines)["PermitRootLogin"] == "no"
    assert dict(alice.sshd_lines)["AllowGroups"] == "admins"
    assert alice.refused == ()


def test_block_in_main_config_without_include_and_block_rendering() -> None:
    plan = plan_remediation(_audit(first="port 22"), HostSpec("web1"), Policy())
    assert plan.target is not None
    assert plan.target.path == "/etc/ssh/sshd_config"
    assert not plan.target.drop_in
    once = render_block("Port 22\nMatch User x\n  X11Forwarding yes\n", (("MaxAuthTries", "4"),))
    assert once == f"{BEGIN}\nMaxAuthTries 4\n{END}\nPort 22\nMatch User x\n  X11Forwarding yes\n"
    assert render_block(once, (("MaxAuthTries", "3"),)).count(BEGIN) == 1
    assert "MaxAuthTries 3\n" in render_block(once, (("MaxAuthTries", "3"),))


def test_baseline_fixes_and_the_session_user_is_never_locked() -> None:
    baseline = BaselineInfo(
        files=(FileMode("/etc/shadow", 0o644, "root", "shadow"),),
        empty_password=("root", "guest"),
        uid0=("toor",),
    )
    plan = plan_remediation(_audit(baseline=baseline), HostSpec("web1"), Policy())
    assert ("mode", "/etc/shadow", "0640", "root", "shadow") in plan.file_fixes
    assert ("lock", "guest") in plan.file_fixes
    assert ("lock", "root") not in plan.file_fixes
    assert any("locking root would lock out" in line for line in plan.refused)
    assert any(line.startswith("baseline.uid0:") for line in plan.unfixable)
