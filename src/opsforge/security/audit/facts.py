"""What an audit reads from a host: two deploy facts, gathered in one round trip.

:class:`SshdFacts` is the effective sshd configuration (``sshd -T``), the modes of the
host keys it names and the first directive of the main config file; :class:`Baseline`
is one batched script for the host baseline (file modes, accounts, PATH, sudoers,
automatic updates, listening sockets). Both need root to see everything: the audit
reads them with the host's become.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import ClassVar

from opsforge.deploy.facts.base import Fact

__all__ = ["Baseline", "BaselineInfo", "FileMode", "Listener", "SshdFacts", "SshdInfo"]

DEFAULT_SSHD_CONFIG = "/etc/ssh/sshd_config"


@dataclass(frozen=True)
class FileMode:
    path: str
    mode: int
    owner: str
    group: str


def _file_mode(line: str) -> FileMode:
    mode, owner, group, path = line.split(" ", 3)
    return FileMode(path, int(mode, 8), owner, group)


@dataclass(frozen=True)
class SshdInfo:
    config: str  # the main config file
    user: str  # the login user of the session (SUDO_USER under become)
    exit_code: int  # of sshd -T
    error: str  # its output when it failed
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)  # lower-case keys
    host_keys: tuple[FileMode, ...] = ()
    first_directive: str = ""  # of the main config: "include /etc/ssh/sshd_config.d/*.conf"
    groups: tuple[str, ...] = ()  # of the login user

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def value(self, option: str) -> str | None:
        values = self.options.get(option.lower())
        return values[0] if values else None

    def values(self, option: str) -> tuple[str, ...]:
        """Every value of a list option (allowusers, hostkey, ...), split on spaces."""
        return tuple(word for line in self.options.get(option.lower(), ()) for word in line.split())


@dataclass(frozen=True)
class SshdFacts(Fact[SshdInfo]):
    """``sshd -T -f CONFIG``, the host key modes, the config's first directive."""

    config: str = DEFAULT_SSHD_CONFIG
    name: ClassVar[str] = "sshd"
    needs_become: ClassVar[bool] = True

    def command(self) -> str:
        conf = shlex.quote(self.config)
        return (
            "set +e; SSHD=$(command -v sshd || echo /usr/sbin/sshd); "
            'u=${SUDO_USER:-$(id -un)}; echo "@@user $u"; echo "@@groups $(id -Gn "$u")"; '
            f'out=$("$SSHD" -T -f {conf} 2>&1); rc=$?; echo "@@rc $rc"; '
            "printf '%s\\n' \"$out\"; echo @@hostkeys; "
            "[ $rc -eq 0 ] && printf '%s\\n' \"$out\" | awk '$1==\"hostkey\"{print $2}' | "
            "while read -r k; do stat -c '%a %U %G %n' \"$k\" 2>/dev/null; done; "
            f"echo @@first; grep -m1 -vE '^[[:space:]]*(#|$)' {conf} 2>/dev/null; true"
        )

    def parse(self, output: str, exit_code: int) -> SshdInfo:
        user, code, part = "", -1, "head"
        groups: tuple[str, ...] = ()
        options: dict[str, list[str]] = {}
        lines: list[str] = []
        keys: list[FileMode] = []
        first = ""
        for line in output.splitlines():
            if line.startswith("@@user "):
                user = line[7:].strip()
            elif line.startswith("@@groups"):
                groups = tuple(line[8:].split())
            elif line.startswith("@@rc "):
                code, part = int(line[5:]), "options"
            elif line in ("@@hostkeys", "@@first"):
                part = line[2:]
            elif part == "options":
                lines.append(line)
                name, _, value = line.partition(" ")
                if name and code == 0:
                    options.setdefault(name.lower(), []).append(value.strip())
            elif part == "hostkeys" and line.strip():
                keys.append(_file_mode(line))
            elif part == "first" and line.strip():
                first = " ".join(line.split()).lower()
        if code < 0:
            raise ValueError("no sshd -T status in the output")
        return SshdInfo(
            config=self.config,
            user=user,
            exit_code=code,
            groups=groups,
            error="" if code == 0 else "\n".join(lines).strip()[-500:],
            options={k: tuple(v) for k, v in options.items()},
            host_keys=tuple(keys),
            first_directive=first,
        )


@dataclass(frozen=True)
class Listener:
    proto: str  # tcp | udp
    address: str  # 0.0.0.0 | ::
    port: int
    process: str  # comm of the owning process, "" if unknown


@dataclass(frozen=True)
class BaselineInfo:
    files: tuple[FileMode, ...] = ()  # /etc/shadow, gshadow, passwd, group
    empty_password: tuple[str, ...] = ()
    uid0: tuple[str, ...] = ()
    world_writable: tuple[FileMode, ...] = ()  # in PATH directories (and the dirs)
    nopasswd: tuple[str, ...] = ()  # "file:line: text"
    package_manager: str = ""  # apt | dnf | ""
    apt_periodic: dict[str, str] = field(default_factory=dict)
    unattended_installed: bool = False
    dnf_automatic: dict[str, str] = field(default_factory=dict)
    listeners: tuple[Listener, ...] = ()


_PATH_DIRS = "/usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin"

_BASELINE_SCRIPT = r"""
set +e
for f in /etc/shadow /etc/gshadow /etc/passwd /etc/group; do
  [ -e "$f" ] && stat -c 'file %a %U %G %n' "$f"
done
awk -F: '$2=="" {print "empty " $1}' /etc/shadow 2>/dev/null
awk -F: '$2=="" {print "empty " $1}' /etc/passwd
awk -F: '$3=="0" && $1!="root" {print "uid0 " $1}' /etc/passwd
seen=" "
for d in @PATHS@ $(printf '%s' "$PATH" | tr ':' ' '); do
  [ -d "$d" ] || continue
  r=$(readlink -f "$d") || continue
  case "$seen" in *" $r "*) continue;; esac
  seen="$seen$r "
  find "$r" -maxdepth 1 -perm -0002 ! -type l -printf 'ww %m %u %g %p\n' 2>/dev/null
done
for f in /etc/sudoers /etc/sudoers.d/*; do
  [ -f "$f" ] && grep -nE '^[^#]*NOPASSWD' "$f" 2>/dev/null | sed "s|^|nopasswd $f:|"
done
if command -v apt-config >/dev/null 2>&1; then
  echo "pm apt"
  apt-config dump 2>/dev/null \
    | grep -E '^APT::Periodic::(Unattended-Upgrade|Update-Package-Lists) ' | sed 's/^/aptconf /'
  dpkg-query -W -f='uu ${Status}\n' unattended-upgrades 2>/dev/null
elif [ -f /etc/dnf/automatic.conf ]; then
  echo "pm dnf"
  grep -E '^[[:space:]]*(apply_updates|upgrade_type)' /etc/dnf/automatic.conf | sed 's/^/dnfconf /'
fi
for t in tcp tcp6 udp udp6; do
  [ -r /proc/net/$t ] && sed 1d /proc/net/$t | sed "s/^/net $t /"
done
find /proc/[0-9]*/fd -lname 'socket:*' -printf 'fd %h %l\n' 2>/dev/null
for p in /proc/[0-9]*; do read -r c < "$p/comm" 2>/dev/null && echo "comm ${p#/proc/} $c"; done
true
""".replace("@PATHS@", _PATH_DIRS)


def _hex_address(text: str) -> str | None:
    """'00000000' -> 0.0.0.0, 32 zeros -> ::, anything else None (not 'any')."""
    if set(text) == {"0"}:
        return "0.0.0.0" if len(text) == 8 else "::"
    return None


def _listeners(net: list[str], fds: list[str], comms: dict[str, str]) -> tuple[Listener, ...]:
    owners: dict[str, str] = {}
    for line in fds:  # "/proc/123/fd socket:[4567]"
        where, _, target = line.partition(" ")
        pid = where.split("/")[2] if where.count("/") >= 2 else ""
        inode = target.removeprefix("socket:[").rstrip("]")
        owners.setdefault(inode, comms.get(pid, ""))
    found: dict[tuple[str, str, int], Listener] = {}
    for line in net:  # "tcp  0: 00000000:0016 00000000:0000 0A ... inode"
        kind, *fields = line.split()
        if len(fields) < 10:
            continue
        local, state, inode = fields[1], fields[3], fields[9]
        proto = kind.rstrip("6")
        if (proto == "tcp" and state != "0A") or (proto == "udp" and state != "07"):
            continue
        host, _, port_hex = local.partition(":")
        address = _hex_address(host)
        if address is None:
            continue
        port = int(port_hex, 16)
        found.setdefault(
            (proto, address, port), Listener(proto, address, port, owners.get(inode, ""))
        )
    return tuple(sorted(found.values(), key=lambda item: (item.proto, item.port, item.address)))


@dataclass(frozen=True)
class Baseline(Fact[BaselineInfo]):
    """The host baseline in one script (see :class:`BaselineInfo`)."""

    name: ClassVar[str] = "baseline"
    needs_become: ClassVar[bool] = True

    def command(self) -> str:
        return _BASELINE_SCRIPT

    def parse(self, output: str, exit_code: int) -> BaselineInfo:
        files, writable, empty, uid0, nopasswd = [], [], [], [], []
        net, fds, comms = [], [], {}
        pm, periodic, dnf, installed = "", {}, {}, False
        for line in output.splitlines():
            tag, _, rest = line.partition(" ")
            if tag == "file":
                files.append(_file_mode(rest))
            elif tag == "ww":
                writable.append(_file_mode(rest))
            elif tag == "empty" and rest not in empty:
                empty.append(rest)
            elif tag == "uid0":
                uid0.append(rest)
            elif tag == "nopasswd":
                nopasswd.append(rest.strip())
            elif tag == "pm":
                pm = rest.strip()
            elif tag == "aptconf":
                key, _, value = rest.partition(" ")
                periodic[key.rsplit("::", 1)[-1]] = value.strip().strip(";").strip('"')
            elif tag == "uu":
                installed = "install ok installed" in rest
            elif tag == "dnfconf":
                key, _, value = rest.partition("=")
                dnf[key.strip()] = value.strip()
            elif tag == "net":
                net.append(rest)
            elif tag == "fd":
                fds.append(rest)
            elif tag == "comm":
                pid, _, comm = rest.partition(" ")
                comms[pid] = comm
        return BaselineInfo(
            files=tuple(files),
            empty_password=tuple(empty),
            uid0=tuple(uid0),
            world_writable=tuple(writable),
            nopasswd=tuple(nopasswd),
            package_manager=pm,
            apt_periodic=periodic,
            unattended_installed=installed,
            dnf_automatic=dnf,
            listeners=_listeners(net, fds, comms),
        )
