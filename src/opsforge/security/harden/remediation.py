"""From one host's audit to what harden will make true there (pure: no I/O).

The sshd part is desired state as a whole, so a second run plans the same file: every
remediable sshd check of the profile gets a line — the fix when it fails, its current
effective value when it passes (pinned, so the hardened file never drops a setting
that now passes because of it). Algorithm lists are what the server offers minus
what grades weak. Baseline fixes are made only where a check fails.

Lock-out guard: a change that would stop the connecting user from logging in again
is refused with the reason (root logging in while the policy wants PermitRootLogin
no; password logins turned off for a session that has a password; AllowUsers/
AllowGroups without the session's user); the rest still applies.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from opsforge.security.audit import CHECKS, HostAudit, Policy, SshdInfo, Verdict
from opsforge.security.audit.policy import ROOT_LOGIN_ORDER, root_login_value
from opsforge.security.audit.sshd_rules import WIRE_CHECKS
from opsforge.types import HostSpec

__all__ = ["DROP_IN_NAME", "Remediation", "SshdTarget", "plan_remediation"]

DROP_IN_NAME = "00-opsforge-hardening.conf"


@dataclass(frozen=True)
class SshdTarget:
    """Where the hardened lines go: a drop-in read first (``Include`` at the top of the
    main config), else a managed block at the top of the main config."""

    path: str
    main_config: str
    drop_in: bool


@dataclass(frozen=True)
class Remediation:
    host: str
    target: SshdTarget | None = None
    sshd_lines: tuple[tuple[str, str], ...] = ()
    reload_command: str = ""
    banner: tuple[str, str] | None = None  # (path, text), written only if missing
    file_fixes: tuple[tuple[str, ...], ...] = ()  # ("mode", ...), ("chmod", ...), ...
    refused: tuple[str, ...] = ()  # lock-out guard: what was not changed, and why
    unfixable: tuple[str, ...] = ()  # failing checks harden does not fix, with the reason


def _target(info: SshdInfo) -> SshdTarget:
    first = info.first_directive.split()
    if len(first) == 2 and first[0] == "include" and first[1].endswith("/*.conf"):
        directory = first[1][: -len("/*.conf")]
        if not directory.startswith("/"):
            directory = posixpath.join(posixpath.dirname(info.config), directory)
        return SshdTarget(posixpath.join(directory, DROP_IN_NAME), info.config, True)
    return SshdTarget(info.config, info.config, False)


def reload_command(info: SshdInfo) -> str:
    """``sshd -t`` first, then SIGHUP to the listener (its pidfile), or the service."""
    pidfile = info.value("pidfile") or "/run/sshd.pid"
    quoted = f"'{pidfile}'" if "'" not in pidfile else "/run/sshd.pid"
    conf = f"'{info.config}'" if "'" not in info.config else "/etc/ssh/sshd_config"
    return (
        f'SSHD=$(command -v sshd || echo /usr/sbin/sshd); "$SSHD" -t -f {conf} || exit 1; '
        f'if [ -s {quoted} ]; then kill -HUP "$(cat {quoted})"; '
        "elif command -v systemctl >/dev/null 2>&1; then "
        "systemctl reload ssh 2>/dev/null || systemctl reload sshd; "
        "else service ssh reload; fi"
    )


def _current(info: SshdInfo, option: str) -> str | None:
    """The effective value as sshd_config would say it (sshd -T prints old spellings)."""
    lines = info.options.get(option.lower())
    if not lines:
        return None
    if option in ("AllowUsers", "AllowGroups"):
        return " ".join(lines)
    if option == "PermitRootLogin":
        return root_login_value(lines[0])
    return lines[0]


def _guard(
    verdict: Verdict, option: str, value: str, info: SshdInfo, spec: HostSpec, policy: Policy
) -> tuple[str | None, str | None]:
    """The value to write (maybe adjusted), or a refusal."""
    user = info.user or spec.user or ""
    if option == "PermitRootLogin" and user == "root" and value == "no":
        allowed = ROOT_LOGIN_ORDER.index(policy.permit_root_login)
        if allowed >= ROOT_LOGIN_ORDER.index("prohibit-password"):
            return "prohibit-password", None  # root keeps its key login
        return None, (
            "PermitRootLogin no would lock out this session (it logs in as root): "
            "log in as a sudo user with --become, or allow prohibit-password in the policy"
        )
    if option in ("PasswordAuthentication", "KbdInteractiveAuthentication") and spec.password:
        return None, (
            f"{option} no would lock out this session (the inventory gives it a password): "
            "log in with a key first"
        )
    # sshd lets a user in only if both lists (when set) match: each is checked alone
    if option == "AllowUsers" and user and user not in value.split():
        return None, f"AllowUsers {value} would lock out this session's user {user}"
    if option == "AllowGroups" and user and not set(value.split()) & set(info.groups):
        groups = " ".join(info.groups) or "none"
        return None, f"AllowGroups {value} would lock out {user} (their groups: {groups})"
    return value, None


def _sshd_lines(
    audit: HostAudit, info: SshdInfo, spec: HostSpec, policy: Policy
) -> tuple[list[tuple[str, str]], list[str]]:
    lines: dict[str, str] = {}
    refused: list[str] = []
    for verdict in audit.verdicts:
        check = CHECKS[verdict.check_id]
        if check.profile != "ssh" or not check.remediable:
            continue
        for option, *rest in verdict.fix:
            if option in lines:
                continue
            if verdict.message is None:  # passes: pin what is there now
                pinned = rest[0] if verdict.check_id in WIRE_CHECKS else _current(info, option)
                if pinned is not None:
                    lines[option] = pinned
                continue
            wanted, refusal = _guard(verdict, option, rest[0], info, spec, policy)
            if refusal:
                refused.append(f"{verdict.check_id}: {refusal}")
            elif wanted is not None:
                lines[option] = wanted
    return sorted(lines.items(), key=lambda kv: _ORDER.get(kv[0], 99)), refused


_ORDER = {
    name: i
    for i, name in enumerate(
        (
            "PermitRootLogin",
            "PasswordAuthentication",
            "KbdInteractiveAuthentication",
            "PermitEmptyPasswords",
            "HostbasedAuthentication",
            "IgnoreRhosts",
            "PermitUserEnvironment",
            "X11Forwarding",
            "MaxAuthTries",
            "LoginGraceTime",
            "ClientAliveInterval",
            "ClientAliveCountMax",
            "LogLevel",
            "Banner",
            "AllowUsers",
            "AllowGroups",
            "KexAlgorithms",
            "HostKeyAlgorithms",
            "Ciphers",
            "MACs",
        )
    )
}


def plan_remediation(audit: HostAudit, spec: HostSpec, policy: Policy) -> Remediation:
    """What harden does on ``audit.host`` (see the module docstring)."""
    info = audit.sshd
    unfixable = [
        f"{v.check_id}: {v.why_no_fix or 'needs a person'}"
        for v in audit.failing
        if not CHECKS[v.check_id].remediable or not v.fix
    ]
    if info is None:
        return Remediation(audit.host, unfixable=tuple(unfixable))
    lines: list[tuple[str, str]] = []
    refused: list[str] = []
    if info.ok:
        lines, refused = _sshd_lines(audit, info, spec, policy)
    else:
        unfixable += [f"{p.message}: nothing planned for sshd" for p in audit.problems]
    banner = None
    if any(option == "Banner" and value == policy.banner for option, value in lines):
        banner = (policy.banner, policy.banner_text)
    user = info.user or spec.user or ""
    fixes: list[tuple[str, ...]] = []
    for verdict in audit.failing:
        check = CHECKS[verdict.check_id]
        if check.profile != "baseline" or not check.remediable:
            continue
        for fix in verdict.fix:
            if fix[0] == "lock" and fix[1] == user:
                refused.append(
                    f"{verdict.check_id}: locking {user} would lock out this session's user"
                )
                continue
            fixes.append(fix)
    return Remediation(
        host=audit.host,
        target=_target(info) if lines else None,
        sshd_lines=tuple(lines),
        reload_command=reload_command(info) if lines else "",
        banner=banner,
        file_fixes=tuple(fixes),
        refused=tuple(refused),
        unfixable=tuple(unfixable),
    )
