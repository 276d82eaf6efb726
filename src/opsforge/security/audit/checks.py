"""The catalog of fleet checks: every check has an id, a title, a severity, a rationale
and a remediation, and says whether ``opsforge harden`` can fix it.

Profiles: ``ssh`` (the sshd configuration from ``sshd -T`` and the algorithms the
server offers on the wire) and ``baseline`` (file permissions, accounts, PATH,
sudoers, updates, listeners). ``all`` is both.
"""

from __future__ import annotations

from dataclasses import dataclass

from opsforge.security.findings import Check, Severity

__all__ = ["CHECKS", "PROFILES", "TOOL", "FleetCheck", "Verdict", "checks_for"]

TOOL = "audit"

PROFILES = ("ssh", "baseline", "all")


@dataclass(frozen=True)
class FleetCheck(Check):
    """A check of the fleet audit: the finding's rule, its profile, and whether
    ``opsforge harden`` can fix it."""

    profile: str = "ssh"  # ssh | baseline
    remediable: bool = True


@dataclass(frozen=True)
class Verdict:
    """One check on one host (or one item of it): ``message`` is None when it passes.

    ``fix`` is what makes it pass, as data harden turns into deploy operations:
    sshd_config lines ``(Option, value)`` for the ssh profile; for the baseline
    ``("mode", path, octal, owner)``, ``("lock", user)``, ``("chmod", path, octal)``,
    ``("apt-periodic",)``. Empty: harden cannot fix it (``why_no_fix`` says why)."""

    check_id: str
    message: str | None
    fix: tuple[tuple[str, ...], ...] = ()
    failing: bool = True  # False: only warn-level grades (a lower severity)
    why_no_fix: str = ""
    key: str | None = None  # what the finding is about, when a check fires per item
    path: str | None = None  # the file on the host it is about


def _c(
    id: str,
    title: str,
    severity: Severity,
    rationale: str,
    remediation: str,
    profile: str,
    remediable: bool = True,
) -> FleetCheck:
    return FleetCheck(
        id,
        title,
        severity,
        TOOL,
        rationale,
        remediation,
        tags=("fleet", profile),
        profile=profile,
        remediable=remediable,
    )


H, M, L = Severity.HIGH, Severity.MEDIUM, Severity.LOW

_ALL = (
    # sshd effective configuration (sshd -T)
    _c(
        "ssh.permit-root-login",
        "sshd allows root to log in with a password",
        H,
        "A root password login is the first target of brute force; root should log in "
        "with a key only, or not at all (log in as a user and use sudo).",
        "PermitRootLogin no (or prohibit-password when root logs in with a key).",
        "ssh",
    ),
    _c(
        "ssh.password-authentication",
        "sshd accepts password authentication",
        H,
        "Passwords can be guessed, phished and reused; keys cannot be brute forced.",
        "PasswordAuthentication no (after every user has a key).",
        "ssh",
    ),
    _c(
        "ssh.kbd-interactive",
        "sshd accepts keyboard-interactive authentication",
        M,
        "Keyboard-interactive (PAM) is another way to type a password, and bypasses "
        "PasswordAuthentication no.",
        "KbdInteractiveAuthentication no.",
        "ssh",
    ),
    _c(
        "ssh.permit-empty-passwords",
        "sshd allows accounts with an empty password",
        H,
        "An account without a password can be logged into by anyone.",
        "PermitEmptyPasswords no.",
        "ssh",
    ),
    _c(
        "ssh.x11-forwarding",
        "sshd allows X11 forwarding",
        L,
        "X11 forwarding exposes the client's display to the server; servers rarely need it.",
        "X11Forwarding no.",
        "ssh",
    ),
    _c(
        "ssh.max-auth-tries",
        "sshd allows too many authentication attempts per connection",
        M,
        "Many attempts per connection make online guessing cheaper.",
        "MaxAuthTries 4 or fewer.",
        "ssh",
    ),
    _c(
        "ssh.client-alive",
        "sshd does not drop idle or dead sessions",
        L,
        "Without ClientAliveInterval an abandoned session stays open indefinitely.",
        "ClientAliveInterval 300 (or less) and ClientAliveCountMax 3 (or less).",
        "ssh",
    ),
    _c(
        "ssh.login-grace-time",
        "sshd gives unauthenticated connections too long",
        L,
        "A long (or unlimited) LoginGraceTime lets unauthenticated connections pile up.",
        "LoginGraceTime 60 or less (not 0, which is unlimited).",
        "ssh",
    ),
    _c(
        "ssh.hostbased-authentication",
        "sshd trusts host-based authentication",
        M,
        "Host-based trust lets any user of a trusted host in.",
        "HostbasedAuthentication no.",
        "ssh",
    ),
    _c(
        "ssh.ignore-rhosts",
        "sshd reads .rhosts/.shosts files",
        M,
        "rhosts-style trust is an obsolete way around authentication.",
        "IgnoreRhosts yes.",
        "ssh",
    ),
    _c(
        "ssh.permit-user-environment",
        "sshd lets users set environment variables for sshd",
        M,
        "User-set environment (LD_PRELOAD, ...) can bypass restrictions such as ForceCommand.",
        "PermitUserEnvironment no.",
        "ssh",
    ),
    _c(
        "ssh.log-level",
        "sshd does not log logins at INFO or VERBOSE",
        L,
        "Login records (and with VERBOSE the key fingerprint used) are what an incident "
        "response reads first; DEBUG levels log private data.",
        "LogLevel VERBOSE (or INFO).",
        "ssh",
    ),
    _c(
        "ssh.banner",
        "sshd shows no warning banner before login",
        L,
        "A legal warning banner is required by many policies (CIS) before authentication.",
        "Banner /etc/issue.net with your organisation's warning text.",
        "ssh",
    ),
    _c(
        "ssh.allow-users-groups",
        "sshd logins are not limited to listed users or groups",
        L,
        "Without AllowUsers/AllowGroups every account with a shell and a credential can log "
        "in, including service and forgotten accounts.",
        "AllowGroups (or AllowUsers) naming who may log in; set allow_groups/allow_users in "
        "the policy file to let harden write it.",
        "ssh",
    ),
    # the algorithms the server really offers (its KEXINIT), graded like ssh-audit
    _c(
        "ssh.weak-kex",
        "sshd offers weak key exchange algorithms",
        H,
        "SHA-1 based and 1024-bit Diffie-Hellman exchanges are broken or near it; the NIST "
        "P-curves (ecdh-sha2-nistp*) are distrusted; 2048-bit groups give only 112 bits.",
        "KexAlgorithms limited to sntrup761x25519/mlkem768x25519, curve25519-sha256 and "
        "diffie-hellman-group16/18 (and group-exchange-sha256 with large moduli only).",
        "ssh",
    ),
    _c(
        "ssh.weak-host-key",
        "sshd offers weak host key algorithms",
        H,
        "ssh-rsa signs with SHA-1, ssh-dss is 1024-bit DSA, and ecdsa-sha2-nistp* use the "
        "distrusted NIST curves.",
        "HostKeyAlgorithms limited to ssh-ed25519 and rsa-sha2-512/256 (and their -cert "
        "forms); keep an ed25519 host key.",
        "ssh",
    ),
    _c(
        "ssh.weak-cipher",
        "sshd offers weak ciphers",
        H,
        "3DES, RC4 (arcfour), Blowfish and CAST are broken; CBC modes are open to "
        "plaintext-recovery attacks.",
        "Ciphers limited to chacha20-poly1305@openssh.com, aes256/128-gcm@openssh.com and "
        "aes256/192/128-ctr.",
        "ssh",
    ),
    _c(
        "ssh.weak-mac",
        "sshd offers weak MACs",
        H,
        "MD5 and SHA-1 MACs are broken; encrypt-and-MAC (non -etm) modes and 64-bit tags "
        "are weaker than encrypt-then-MAC.",
        "MACs limited to hmac-sha2-512-etm@openssh.com, hmac-sha2-256-etm@openssh.com and "
        "umac-128-etm@openssh.com.",
        "ssh",
    ),
    _c(
        "ssh.small-dh-modulus",
        "sshd hands out small Diffie-Hellman group-exchange moduli",
        M,
        "Group-exchange moduli under 3072 bits give less than 128 bits of security; under "
        "2048 bits they are within reach of well-funded attackers (Logjam).",
        "Remove moduli under 3072 bits from the moduli file, or drop "
        "diffie-hellman-group-exchange-* from KexAlgorithms.",
        "ssh",
    ),
    _c(
        "ssh.terrapin",
        "sshd is open to the Terrapin prefix-truncation attack",
        M,
        "chacha20-poly1305 or an -etm MAC without strict key exchange "
        "(kex-strict-s-v00@openssh.com) lets a man in the middle drop messages "
        "(CVE-2023-48795).",
        "Upgrade OpenSSH to 9.6 (or a patched package), or drop chacha20-poly1305 and the "
        "-etm MACs.",
        "ssh",
        remediable=False,
    ),
    # host baseline
    _c(
        "baseline.shadow-permissions",
        "/etc/shadow (or /etc/gshadow) is readable or writable by others",
        H,
        "The shadow files hold the password hashes; anyone who reads them can crack them offline.",
        "Owner root, group root or shadow, mode 0640 or stricter, nothing for others.",
        "baseline",
    ),
    _c(
        "baseline.passwd-permissions",
        "/etc/passwd (or /etc/group) is writable by group or others",
        H,
        "Whoever can write /etc/passwd can add a UID 0 account.",
        "Owner root, mode 0644 (no write for group or others).",
        "baseline",
    ),
    _c(
        "baseline.host-key-permissions",
        "an sshd private host key is readable by others",
        H,
        "A stolen host key lets an attacker impersonate the server.",
        "Private host keys owned by root, mode 0600 (0640 for group ssh_keys on Red Hat).",
        "baseline",
    ),
    _c(
        "baseline.empty-password",
        "an account has an empty password",
        H,
        "An empty password field lets anyone log in (su, console, services using PAM).",
        "Lock the account (passwd -l USER) or give it a password.",
        "baseline",
    ),
    _c(
        "baseline.uid0",
        "an account besides root has UID 0",
        H,
        "A second UID 0 account is root under another name, often a backdoor.",
        "Remove the account or give it its own UID; review how it got there.",
        "baseline",
        remediable=False,
    ),
    _c(
        "baseline.path-world-writable",
        "a directory in PATH, or a file in one, is world-writable",
        H,
        "Anyone can plant or replace a program that root runs by name.",
        "chmod o-w the file or directory (or set the sticky bit on a shared directory).",
        "baseline",
    ),
    _c(
        "baseline.sudo-nopasswd",
        "sudoers grants commands without a password (NOPASSWD)",
        M,
        "NOPASSWD turns any compromise of that account into root without a second factor.",
        "Remove NOPASSWD from the entry, or limit it to specific, safe commands.",
        "baseline",
        remediable=False,
    ),
    _c(
        "baseline.unattended-upgrades",
        "security updates are not installed automatically",
        M,
        "Hosts without automatic security updates stay open to published exploits.",
        "Debian/Ubuntu: install unattended-upgrades and set APT::Periodic::Update-Package-Lists "
        'and APT::Periodic::Unattended-Upgrade to "1"; Red Hat: dnf-automatic with '
        "upgrade_type = security.",
        "baseline",
    ),
    _c(
        "baseline.listen-any",
        "a service listens on all addresses (0.0.0.0 / ::)",
        L,
        "A service bound to every address is reachable from every network the host is on; "
        "bind it to the address it serves, or firewall it.",
        "Bind the service to 127.0.0.1 or the one address it serves; list accepted ports "
        "under listen_allowed in the policy file.",
        "baseline",
        remediable=False,
    ),
)

CHECKS: dict[str, FleetCheck] = {c.id: c for c in _ALL}


def checks_for(profile: str) -> tuple[FleetCheck, ...]:
    """The checks of ``profile`` (ssh, baseline or all), in catalog order."""
    if profile == "all":
        return _ALL
    return tuple(c for c in _ALL if c.profile == profile)
