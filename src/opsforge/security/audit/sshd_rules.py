"""The ssh profile: the effective sshd configuration and the offered algorithms against
the policy. Each rule says what is wrong (a message, or None) and which sshd_config
lines fix it (what ``opsforge harden`` writes)."""

from __future__ import annotations

from collections.abc import Callable

from opsforge.security.audit.checks import Verdict
from opsforge.security.audit.facts import SshdInfo
from opsforge.security.audit.grading import FAIL, GEX_KEX, PSEUDO_KEX, WARN, Grade, grade
from opsforge.security.audit.policy import ROOT_LOGIN_ORDER, Policy, root_login_value
from opsforge.security.audit.wire import ServerOffer

__all__ = ["ALGORITHM_OPTIONS", "WIRE_CHECKS", "sshd_verdicts", "wire_verdicts"]

#: category of an offered list -> the sshd_config option that sets it
ALGORITHM_OPTIONS = {
    "kex": "KexAlgorithms",
    "host_key": "HostKeyAlgorithms",
    "cipher": "Ciphers",
    "mac": "MACs",
}
WIRE_CHECKS = frozenset(
    (
        "ssh.weak-kex",
        "ssh.weak-host-key",
        "ssh.weak-cipher",
        "ssh.weak-mac",
        "ssh.small-dh-modulus",
        "ssh.terrapin",
    )
)
_CHECK_OF = {
    "kex": "ssh.weak-kex",
    "host_key": "ssh.weak-host-key",
    "cipher": "ssh.weak-cipher",
    "mac": "ssh.weak-mac",
}


def _int(info: SshdInfo, option: str) -> int:
    value = info.value(option) or "0"
    return int(value) if value.isdigit() else 0


def _yes(info: SshdInfo, option: str) -> bool:
    return (info.value(option) or "no").lower() == "yes"


Rule = Callable[[SshdInfo, Policy], Verdict]


def _root_login(info: SshdInfo, policy: Policy) -> Verdict:
    value = root_login_value(info.value("permitrootlogin") or "yes")
    rank = ROOT_LOGIN_ORDER.index(value) if value in ROOT_LOGIN_ORDER else len(ROOT_LOGIN_ORDER)
    bad = rank > ROOT_LOGIN_ORDER.index(policy.permit_root_login)
    message = f"PermitRootLogin is {value} (policy: {policy.permit_root_login} at most)"
    return Verdict("ssh.permit-root-login", message if bad else None, (("PermitRootLogin", "no"),))


def _flag(check_id: str, option: str, bad: str, good: str) -> Rule:
    def rule(info: SshdInfo, policy: Policy) -> Verdict:
        value = (info.value(option.lower()) or "").lower()
        wrong = value == bad if bad else value != good
        message = f"{option} is {value or 'unset'} (want {good})" if wrong else None
        return Verdict(check_id, message, ((option, good),))

    return rule


def _kbd(info: SshdInfo, policy: Policy) -> Verdict:
    on = _yes(info, "kbdinteractiveauthentication") or _yes(info, "challengeresponseauthentication")
    message = "KbdInteractiveAuthentication is yes (want no)" if on else None
    return Verdict("ssh.kbd-interactive", message, (("KbdInteractiveAuthentication", "no"),))


def _max_auth(info: SshdInfo, policy: Policy) -> Verdict:
    tries = _int(info, "maxauthtries")
    bad = tries > policy.max_auth_tries
    message = f"MaxAuthTries is {tries} (want {policy.max_auth_tries} or fewer)" if bad else None
    fix = (("MaxAuthTries", str(policy.max_auth_tries)),)
    return Verdict("ssh.max-auth-tries", message, fix)


def _client_alive(info: SshdInfo, policy: Policy) -> Verdict:
    interval, count = _int(info, "clientaliveinterval"), _int(info, "clientalivecountmax")
    problems = []
    if interval == 0 or interval > policy.client_alive_interval:
        problems.append(
            f"ClientAliveInterval is {interval}"
            f"{' (disabled)' if interval == 0 else ''} (want 1-{policy.client_alive_interval})"
        )
    if count == 0 or count > policy.client_alive_count_max:
        problems.append(f"ClientAliveCountMax is {count} (want 1-{policy.client_alive_count_max})")
    fix = (
        ("ClientAliveInterval", str(policy.client_alive_interval)),
        ("ClientAliveCountMax", str(policy.client_alive_count_max)),
    )
    return Verdict("ssh.client-alive", "; ".join(problems) or None, fix)


def _grace(info: SshdInfo, policy: Policy) -> Verdict:
    grace = _int(info, "logingracetime")
    bad = grace == 0 or grace > policy.login_grace_time
    shown = "0 (unlimited)" if grace == 0 else str(grace)
    message = f"LoginGraceTime is {shown} (want 1-{policy.login_grace_time})" if bad else None
    fix = (("LoginGraceTime", str(policy.login_grace_time)),)
    return Verdict("ssh.login-grace-time", message, fix)


def _log_level(info: SshdInfo, policy: Policy) -> Verdict:
    level = (info.value("loglevel") or "INFO").upper()
    message = (
        f"LogLevel is {level} (want INFO or VERBOSE)" if level not in ("INFO", "VERBOSE") else None
    )
    return Verdict("ssh.log-level", message, (("LogLevel", policy.log_level),))


def _banner(info: SshdInfo, policy: Policy) -> Verdict:
    banner = info.value("banner") or "none"
    message = "Banner is none (no warning before login)" if banner.lower() == "none" else None
    return Verdict("ssh.banner", message, (("Banner", policy.banner),))


def _allow(info: SshdInfo, policy: Policy) -> Verdict:
    users, groups = info.values("allowusers"), info.values("allowgroups")
    message = None if users or groups else "neither AllowUsers nor AllowGroups is set"
    fix: list[tuple[str, str]] = []
    if policy.allow_users:
        fix.append(("AllowUsers", " ".join(policy.allow_users)))
    if policy.allow_groups:
        fix.append(("AllowGroups", " ".join(policy.allow_groups)))
    why = "" if fix else "no allow_users/allow_groups in the policy file"
    return Verdict("ssh.allow-users-groups", message, tuple(fix), why_no_fix=why)


_RULES: tuple[Rule, ...] = (
    _root_login,
    _flag("ssh.password-authentication", "PasswordAuthentication", "yes", "no"),
    _kbd,
    _flag("ssh.permit-empty-passwords", "PermitEmptyPasswords", "yes", "no"),
    _flag("ssh.x11-forwarding", "X11Forwarding", "yes", "no"),
    _max_auth,
    _client_alive,
    _grace,
    _flag("ssh.hostbased-authentication", "HostbasedAuthentication", "yes", "no"),
    _flag("ssh.ignore-rhosts", "IgnoreRhosts", "", "yes"),
    _flag("ssh.permit-user-environment", "PermitUserEnvironment", "", "no"),
    _log_level,
    _banner,
    _allow,
)


def sshd_verdicts(info: SshdInfo, policy: Policy) -> list[Verdict]:
    """Every sshd configuration check against ``info`` (from ``sshd -T``)."""
    return [rule(info, policy) for rule in _RULES]


def _weak(category: str, names: tuple[str, ...], policy: Policy) -> list[Grade]:
    graded = [grade(category, n) for n in names if not n.startswith(PSEUDO_KEX)]
    return [g for g in graded if g.level in (FAIL, WARN) and g.name not in policy.accept_algorithms]


def wire_verdicts(offer: ServerOffer, policy: Policy) -> list[Verdict]:
    """The offered algorithms, graded; the modulus handed out; Terrapin."""
    small = offer.gex_modulus_bits is not None and offer.gex_modulus_bits < policy.min_modulus_bits
    verdicts = []
    for category, names in offer.by_category().items():
        weak = _weak(category, names, policy)
        drop = {g.name for g in weak}
        if category == "kex" and small:
            drop |= set(GEX_KEX)
        keep = [n for n in names if n not in drop and not n.startswith(PSEUDO_KEX)]
        fix = ((ALGORITHM_OPTIONS[category], ",".join(keep)),) if keep else ()
        message = None
        if weak:
            message = f"offers {len(weak)} weak: " + ", ".join(f"{g} [{g.level}]" for g in weak)
        why = "" if keep else f"every offered {category.replace('_', ' ')} algorithm is weak"
        verdicts.append(
            Verdict(
                _CHECK_OF[category],
                message,
                fix,
                failing=any(g.level == FAIL for g in weak),
                why_no_fix=why,
            )
        )
    gex = [k for k in offer.kex if k in GEX_KEX]
    message = None
    if gex and small:
        message = (
            f"{gex[0]} hands out {offer.gex_modulus_bits}-bit moduli "
            f"(policy: {policy.min_modulus_bits} at least)"
        )
    kex_fix = next(v.fix for v in verdicts if v.check_id == "ssh.weak-kex")
    verdicts.append(
        Verdict(
            "ssh.small-dh-modulus",
            message,
            kex_fix,
            failing=bool(offer.gex_modulus_bits is not None and offer.gex_modulus_bits < 2048),
        )
    )
    etm = any(m.endswith("-etm@openssh.com") for m in offer.macs)
    chacha = "chacha20-poly1305@openssh.com" in offer.ciphers
    strict = "kex-strict-s-v00@openssh.com" in offer.kex
    terrapin = None
    if (chacha or etm) and not strict:
        terrapin = (
            "offers "
            + ("chacha20-poly1305" if chacha else "-etm MACs")
            + " without strict key exchange (kex-strict-s-v00@openssh.com)"
        )
    verdicts.append(Verdict("ssh.terrapin", terrapin, why_no_fix="needs an OpenSSH upgrade"))
    return verdicts
