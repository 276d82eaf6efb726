"""SSH configuration files in a tree: ``sshd_config`` (server) and ``ssh_config`` /
``.ssh/config`` (client).

Static checks of the file as written (the fleet audit of issue 6B reads the
effective ``sshd -T`` configuration on live hosts instead). OpenSSH takes the
first value of a keyword, so only the first occurrence outside ``Match``/``Host``
blocks counts for server settings; client settings are checked wherever they are.
"""

from __future__ import annotations

import os
import re
from functools import partial

from opsforge.security.findings import Finding, Location, Severity
from opsforge.security.scan.config_rules import config_check

__all__ = ["scan_ssh_config", "ssh_config_kind"]

_WEAK_CIPHERS = re.compile(r"(?i)\b(?:3des-cbc|aes\d+-cbc|blowfish-cbc|cast128-cbc|arcfour\w*)\b")
_WEAK_MACS = re.compile(r"(?i)\bhmac-(?:md5|sha1|ripemd160)(?:-96)?(?:@openssh\.com)?\b|umac-64\b")
_WEAK_KEX = re.compile(r"(?i)diffie-hellman-group1-sha1|diffie-hellman-group14-sha1|gex-sha1")


_check = partial(config_check, tag="ssh")


ROOT_LOGIN = _check(
    "sshd-config.permit-root-login", "sshd permits root login with a password", Severity.HIGH,
    "Direct root login makes root's password/key the one secret between an attacker and the host "
    "and hides who logged in.",
    "PermitRootLogin no (or prohibit-password where root keys are needed).",
)  # fmt: skip
PASSWORD_AUTH = _check(
    "sshd-config.password-authentication", "sshd allows password authentication", Severity.MEDIUM,
    "Passwords can be guessed and phished; keys cannot be brute-forced over the network.",
    "PasswordAuthentication no and KbdInteractiveAuthentication no; use keys.",
)  # fmt: skip
EMPTY_PASSWORDS = _check(
    "sshd-config.permit-empty-passwords", "sshd permits empty passwords", Severity.CRITICAL,
    "Accounts without a password can log in with nothing at all.",
    "PermitEmptyPasswords no.",
)  # fmt: skip
WEAK_CRYPTO = _check(
    "ssh-config.weak-algorithms", "Weak SSH ciphers, MACs or key exchange enabled", Severity.MEDIUM,
    "CBC ciphers, arcfour, MD5/SHA-1 MACs and SHA-1 key exchange are broken or deprecated.",
    "Remove them; keep OpenSSH's defaults (chacha20-poly1305, aes-gcm/ctr, etm MACs, curve25519).",
)  # fmt: skip
NO_HOST_KEY_CHECK = _check(
    "ssh-config.no-host-key-checking", "SSH client does not verify host keys", Severity.HIGH,
    "StrictHostKeyChecking no / UserKnownHostsFile /dev/null accept any server: a "
    "man in the middle gets the session and whatever credentials it forwards.",
    "Keep StrictHostKeyChecking yes (or accept-new) and a real known_hosts file.",
)  # fmt: skip
FORWARD_AGENT = _check(
    "ssh-config.forward-agent-all", "Agent forwarding to every host", Severity.MEDIUM,
    "ForwardAgent yes under Host * lets root on any server you reach use your keys.",
    "Enable ForwardAgent only for specific trusted hosts, or use ProxyJump instead.",
)  # fmt: skip


def ssh_config_kind(rel: str) -> str | None:
    name = os.path.basename(rel)
    parent = os.path.basename(os.path.dirname(rel))
    if name == "sshd_config" or (parent == "sshd_config.d" and name.endswith(".conf")):
        return "server"
    if name == "ssh_config" or (parent == "ssh_config.d" and name.endswith(".conf")):
        return "client"
    if name == "config" and parent == ".ssh":
        return "client"
    return None


def scan_ssh_config(rel: str, text: str, kind: str) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[str] = set()
    block = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = re.split(r"\s*=\s*|\s+", line, maxsplit=1)
        keyword = parts[0].lower()
        value = parts[1].strip().strip('"') if len(parts) > 1 else ""
        location = Location(path=rel, line=number, snippet=line[:300])
        if keyword in {"match", "host"}:
            block = value.lower()
            continue
        if (
            keyword in {"ciphers", "macs", "kexalgorithms"}
            and (_WEAK_CIPHERS.search(value) or _WEAK_MACS.search(value) or _WEAK_KEX.search(value))
            and not value.startswith("-")
        ):
            findings.append(WEAK_CRYPTO.at(location))
        if kind == "server":
            findings.extend(_server(keyword, value.lower(), location, block, seen))
        else:
            findings.extend(_client(keyword, value.lower(), location, block))
    return findings


def _server(
    keyword: str, value: str, location: Location, block: str, seen: set[str]
) -> list[Finding]:
    if block or keyword in seen:
        return []  # Match blocks and repeated keywords do not change the global value
    seen.add(keyword)
    if keyword == "permitrootlogin" and value == "yes":
        return [ROOT_LOGIN.at(location)]
    if keyword == "passwordauthentication" and value == "yes":
        return [PASSWORD_AUTH.at(location)]
    if keyword == "permitemptypasswords" and value == "yes":
        return [EMPTY_PASSWORDS.at(location)]
    return []


def _client(keyword: str, value: str, location: Location, block: str) -> list[Finding]:
    if keyword == "stricthostkeychecking" and value in {"no", "off"}:
        return [NO_HOST_KEY_CHECK.at(location)]
    if keyword == "userknownhostsfile" and value == "/dev/null":
        return [NO_HOST_KEY_CHECK.at(location)]
    if keyword == "forwardagent" and value == "yes" and block in {"", "*"}:
        return [FORWARD_AGENT.at(location)]
    return []
