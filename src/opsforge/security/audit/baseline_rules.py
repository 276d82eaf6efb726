"""The baseline profile: one verdict per thing found (a file, an account, a sudoers
line, a listening port), each with the fix harden applies, if any."""

from __future__ import annotations

from opsforge.security.audit.checks import Verdict
from opsforge.security.audit.facts import BaselineInfo, FileMode, SshdInfo
from opsforge.security.audit.policy import Policy

__all__ = ["APT_PERIODIC_FILE", "baseline_verdicts"]

APT_PERIODIC_FILE = "/etc/apt/apt.conf.d/20auto-upgrades"


def _octal(mode: int) -> str:
    return f"{mode:04o}"


def _shadow(item: FileMode) -> Verdict:
    group_ok = item.group in ("root", "shadow")
    allowed = 0o640 if item.group == "shadow" else 0o600
    wrong = []
    if item.owner != "root":
        wrong.append(f"owner {item.owner}")
    if not group_ok:
        wrong.append(f"group {item.group}")
    if item.mode & ~allowed & 0o7777:
        wrong.append(f"mode {_octal(item.mode)}")
    message = (
        f"{item.path}: {', '.join(wrong)} (want root:shadow 0640 or stricter)" if wrong else None
    )
    fix = (
        "mode",
        item.path,
        _octal(item.mode & 0o640 if group_ok else 0o600),
        "root",
        item.group if group_ok else "root",
    )
    return Verdict("baseline.shadow-permissions", message, (fix,), key=item.path, path=item.path)


def _passwd(item: FileMode) -> Verdict:
    wrong = []
    if item.owner != "root":
        wrong.append(f"owner {item.owner}")
    if item.mode & 0o022:
        wrong.append(f"mode {_octal(item.mode)}")
    message = f"{item.path}: {', '.join(wrong)} (want root, 0644)" if wrong else None
    fix = ("mode", item.path, _octal(item.mode & ~0o022 & 0o7777), "root", item.group)
    return Verdict("baseline.passwd-permissions", message, (fix,), key=item.path, path=item.path)


def _host_key(item: FileMode) -> Verdict:
    allowed = 0o640 if item.group == "ssh_keys" else 0o600
    bad = item.owner != "root" or bool(item.mode & ~allowed & 0o7777)
    message = (
        f"{item.path}: {item.owner}:{item.group} {_octal(item.mode)} (want root, 0600)"
        if bad
        else None
    )
    fix = ("mode", item.path, _octal(item.mode & allowed), "root", item.group)
    return Verdict("baseline.host-key-permissions", message, (fix,), key=item.path, path=item.path)


def _unattended(info: BaselineInfo) -> Verdict:
    check = "baseline.unattended-upgrades"
    if info.package_manager == "apt":
        periodic = info.apt_periodic
        wrong = [
            f"APT::Periodic::{k} is {periodic.get(k, 'unset')}"
            for k in ("Update-Package-Lists", "Unattended-Upgrade")
            if periodic.get(k, "0") in ("", "0")
        ]
        if not info.unattended_installed:
            return Verdict(
                check,
                "unattended-upgrades is not installed",
                why_no_fix="install the unattended-upgrades package first "
                "(harden changes configuration, it does not install packages)",
                path=APT_PERIODIC_FILE,
            )
        message = "; ".join(wrong) or None
        return Verdict(check, message, (("apt-periodic",),), path=APT_PERIODIC_FILE)
    if info.package_manager == "dnf":
        conf = info.dnf_automatic
        ok = conf.get("apply_updates", "no") in ("yes", "True", "true", "1")
        ok = ok and conf.get("upgrade_type", "default") == "security"
        message = None if ok else "dnf-automatic does not apply security updates"
        return Verdict(check, message, why_no_fix="dnf hosts: configure dnf-automatic")
    return Verdict(
        check,
        "no known automatic update mechanism (apt or dnf)",
        why_no_fix="unknown package manager",
    )


def baseline_verdicts(info: BaselineInfo, sshd: SshdInfo | None, policy: Policy) -> list[Verdict]:
    """Every baseline check; one verdict per item (passing files included)."""
    verdicts: list[Verdict] = []
    for item in info.files:
        if item.path.endswith("shadow"):
            verdicts.append(_shadow(item))
        else:
            verdicts.append(_passwd(item))
    if sshd is not None and sshd.ok:
        verdicts.extend(_host_key(item) for item in sshd.host_keys)
    for user in info.empty_password:
        verdicts.append(
            Verdict(
                "baseline.empty-password",
                f"account {user} has an empty password",
                (("lock", user),),
                key=user,
            )
        )
    verdicts.extend(
        Verdict("baseline.uid0", f"account {user} has UID 0", key=user, why_no_fix="needs a person")
        for user in info.uid0
    )
    for item in info.world_writable:
        verdicts.append(
            Verdict(
                "baseline.path-world-writable",
                f"{item.path} is world-writable ({_octal(item.mode)})",
                (("chmod", item.path, _octal(item.mode & ~0o002 & 0o7777)),),
                key=item.path,
                path=item.path,
            )
        )
    for entry in info.nopasswd:  # "FILE:LINE:TEXT"
        file, line, text = [*entry.split(":", 2), "", ""][:3]
        verdicts.append(
            Verdict(
                "baseline.sudo-nopasswd",
                f"{file}:{line}: {text.strip()}",
                key=f"{file}:{' '.join(text.split())}",
                path=file,
                why_no_fix="removing NOPASSWD can break automation; needs a person",
            )
        )
    verdicts.append(_unattended(info))
    for listener in info.listeners:
        if listener.port in policy.listen_allowed:
            continue
        who = f" ({listener.process})" if listener.process else ""
        verdicts.append(
            Verdict(
                "baseline.listen-any",
                f"{listener.proto}/{listener.port} listens on {listener.address}{who}",
                key=f"{listener.proto}/{listener.port}/{listener.address}",
                why_no_fix="bind the service to one address (its own configuration)",
            )
        )
    return verdicts
