"""The system fact: OS, architecture, hostname, CPUs, memory, service manager — one command.

Roles and deploys branch on these (Ansible's ``ansible_os_family``,
``ansible_distribution_major_version``, ...); :meth:`SystemInfo.ansible_facts`
gives them under Ansible's names.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any, ClassVar

from opsforge.deploy.facts.base import Fact

__all__ = ["OsInfo", "System", "SystemInfo"]

# os-release ID / ID_LIKE -> Ansible's os_family
_FAMILIES = {
    "debian": "Debian",
    "ubuntu": "Debian",
    "linuxmint": "Debian",
    "raspbian": "Debian",
    "rhel": "RedHat",
    "centos": "RedHat",
    "fedora": "RedHat",
    "rocky": "RedHat",
    "almalinux": "RedHat",
    "ol": "RedHat",
    "amzn": "RedHat",
    "alpine": "Alpine",
    "arch": "Archlinux",
    "opensuse": "Suse",
    "sles": "Suse",
    "suse": "Suse",
    "gentoo": "Gentoo",
    "freebsd": "FreeBSD",
}


@dataclass(frozen=True, slots=True)
class OsInfo:
    id: str  # debian
    name: str  # Debian GNU/Linux
    version_id: str  # 12
    codename: str  # bookworm
    family: str  # Debian (Ansible's os_family)
    like: tuple[str, ...] = ()

    @property
    def major(self) -> str:
        return self.version_id.split(".")[0] if self.version_id else ""


@dataclass(frozen=True, slots=True)
class SystemInfo:
    os: OsInfo
    kernel: str  # Linux
    kernel_release: str
    arch: str  # x86_64
    hostname: str
    fqdn: str
    user: str  # the login user
    home: str
    cpus: int
    memtotal_mb: int
    service_mgr: str  # systemd | openrc | sysvinit | other
    python: str  # path of python3, or ""
    default_ipv4: str

    def ansible_facts(self) -> dict[str, Any]:
        """The subset of Ansible's facts that roles branch on, under Ansible's names."""
        return {
            "os_family": self.os.family,
            "distribution": self.os.name.split()[0] if self.os.name else self.os.id.title(),
            "distribution_version": self.os.version_id,
            "distribution_major_version": self.os.major,
            "distribution_release": self.os.codename,
            "system": self.kernel,
            "kernel": self.kernel_release,
            "architecture": self.arch,
            "machine": self.arch,
            "hostname": self.hostname.split(".")[0],
            "nodename": self.hostname,
            "fqdn": self.fqdn,
            "user_id": self.user,
            "user_dir": self.home,
            "processor_count": self.cpus,
            "processor_vcpus": self.cpus,
            "memtotal_mb": self.memtotal_mb,
            "service_mgr": self.service_mgr,
            "python": {"executable": self.python},
            "default_ipv4": {"address": self.default_ipv4} if self.default_ipv4 else {},
        }


_SCRIPT = r"""
k() { printf '%s=%s\n' "$1" "$2"; }
keys='ID\|ID_LIKE\|NAME\|VERSION_ID\|VERSION_CODENAME'
[ -r /etc/os-release ] && sed -n "s/^\($keys\)=/os_\1=/p" /etc/os-release
k kernel "$(uname -s)"
k kernel_release "$(uname -r)"
k arch "$(uname -m)"
k hostname "$(uname -n)"
k fqdn "$(hostname -f 2>/dev/null || uname -n)"
k user "$(id -un)"
k home "$HOME"
k cpus "$(getconf _NPROCESSORS_ONLN 2>/dev/null || grep -c ^processor /proc/cpuinfo)"
k memtotal_kb "$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo 2>/dev/null)"
if [ -d /run/systemd/system ]; then k service_mgr systemd
elif command -v rc-service >/dev/null 2>&1; then k service_mgr openrc
elif [ -d /etc/init.d ]; then k service_mgr sysvinit
else k service_mgr other; fi
k python "$(command -v python3 2>/dev/null)"
k default_ipv4 "$(ip -4 route get 192.0.2.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')"
""".strip()


def _unquote(value: str) -> str:
    try:
        parts = shlex.split(value)
    except ValueError:
        return value
    return parts[0] if len(parts) == 1 else value


@dataclass(frozen=True, slots=True)
class System(Fact[SystemInfo]):
    """Everything in :class:`SystemInfo`, in one command (no network traffic: ``ip route
    get`` only asks the kernel which source address it would use)."""

    name: ClassVar[str] = "system"

    def command(self) -> str:
        return _SCRIPT

    def parse(self, output: str, exit_code: int) -> SystemInfo:
        values: dict[str, str] = {}
        for line in output.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                values[key.strip()] = _unquote(value.strip())
        if "kernel" not in values or "arch" not in values:
            raise ValueError("no kernel/arch lines")
        os_id = values.get("os_ID", values["kernel"].lower())
        like = tuple(values.get("os_ID_LIKE", "").split())
        family = _FAMILIES.get(os_id) or next(
            (_FAMILIES[x] for x in like if x in _FAMILIES), values["kernel"]
        )
        return SystemInfo(
            os=OsInfo(
                id=os_id,
                name=values.get("os_NAME", ""),
                version_id=values.get("os_VERSION_ID", ""),
                codename=values.get("os_VERSION_CODENAME", ""),
                family=family,
                like=like,
            ),
            kernel=values["kernel"],
            kernel_release=values.get("kernel_release", ""),
            arch=values["arch"],
            hostname=values.get("hostname", ""),
            fqdn=values.get("fqdn", ""),
            user=values.get("user", ""),
            home=values.get("home", ""),
            cpus=int(values.get("cpus") or 0),
            memtotal_mb=int(values.get("memtotal_kb") or 0) // 1024,
            service_mgr=values.get("service_mgr", "other"),
            python=values.get("python", ""),
            default_ipv4=values.get("default_ipv4", ""),
        )
