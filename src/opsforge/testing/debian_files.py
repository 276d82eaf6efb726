"""What a Debian test host runs and the files written into its root at start.

``BOOT`` runs (this machine's ``/bin/sh``) as PID 1 of the host's new PID, mount, UTS
and IPC namespaces, inside its network namespace: it mounts the host's private
filesystems under the rootfs, sets the hostname, drops capabilities that reach past
the namespaces, and becomes ``INIT`` inside the chroot. ``INIT`` starts sshd and
reaps orphans; there is no systemd, so services go through ``/etc/init.d`` and
``service`` — as on hosts without systemd. No init runs the rc scripts at start:
only sshd runs until a test starts a service.

Hosts started with ``init="systemd"`` boot the rootfs's systemd instead, under
``systemd-nspawn`` in the same network namespace: sshd runs as ``ssh.service``, the test
service is a native unit (``SYSTEMD_UNIT``) and no ``policy-rc.d`` is written, so package
scripts start services as on any systemd host.

``invoke-rc.d`` (what package scripts call) cannot tell the runlevel without an init
and would refuse every start; ``POLICY_RC_D`` answers it as sysvinit in runlevel 2
would: actions on services enabled in ``/etc/rc2.d`` (or any stop/status) run, so
``apt-get install`` of a package with a service starts it, as on a real host, and a
disabled service is not started behind the test's back.

Inside a host: ``/proc`` of its own PID namespace, with ``/proc/sys`` read-only but
for ``/proc/sys/net`` (the host's network namespace: ``net.*`` sysctls are its own;
others would change this machine and fail with EROFS), ``/sys`` read-only, ``/dev``
with null, zero, full, random, urandom, tty, pts and shm, and ``/run``, ``/tmp``
and ``/srv/repo`` (the local apt repository, read-only) of its own.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = [
    "BOOT",
    "INIT",
    "INIT_PATH",
    "POLICY_RC_D",
    "SERVICE",
    "SERVICE_NAME",
    "SYSTEMD_UNIT",
    "write_host_files",
]

INIT_PATH = "/usr/local/sbin/opsforge-test-init"
SERVICE_NAME = "opsforge-testsvc"
SERVICE_PIDFILE = f"/run/{SERVICE_NAME}.pid"

BOOT = r"""set -eu
R=$1 REPO=$2 NAME=$3 CAPS=$4
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
for ro in sys sysrq-trigger; do
  [ -e "$R/proc/$ro" ] || continue
  mount --bind "$R/proc/$ro" "$R/proc/$ro"
  mount -o remount,bind,ro "$R/proc/$ro"
done
mount --bind "$R/proc/sys/net" "$R/proc/sys/net"
mount -o remount,bind,rw "$R/proc/sys/net"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
mount -t tmpfs -o mode=755,size=4m,nosuid tmpfs "$R/dev"
for node in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" "tty 5 0"; do
  set -- $node
  mknod -m 666 "$R/dev/$1" c "$2" "$3"
done
mkdir -m 755 "$R/dev/pts"
mkdir -m 1777 "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5,nosuid,noexec devpts "$R/dev/pts"
mount -t tmpfs -o mode=1777,size=64m,nosuid,nodev tmpfs "$R/dev/shm"
ln -s pts/ptmx "$R/dev/ptmx"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o mode=755,size=64m,nosuid,nodev tmpfs "$R/run"
mkdir -m 1777 "$R/run/lock"
mkdir -m 755 "$R/run/sshd"
mount -t tmpfs -o mode=1777,size=256m,nosuid,nodev tmpfs "$R/tmp"
mount --bind "$REPO" "$R/srv/repo"
mount -o remount,bind,ro "$R/srv/repo"
hostname "$NAME"
exec setpriv "$CAPS" chroot "$R" /usr/local/sbin/opsforge-test-init
"""

INIT = """#!/bin/bash
# PID 1 of an opsforge Debian test host (no systemd): starts sshd, reaps orphans.
# Stopped from outside: the test run TERMs the host's processes, then KILLs this one.
trap 'exit 0' TERM INT
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
/usr/sbin/sshd -D -e &
while :; do
  sleep 3600 &
  wait $!
done
"""

SERVICE = f"""#!/bin/sh
### BEGIN INIT INFO
# Provides:          {SERVICE_NAME}
# Required-Start:    $remote_fs
# Required-Stop:     $remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: opsforge's test service: a daemon with a pidfile
### END INIT INFO
# Written by opsforge.testing.debian: a service for the "no systemd" fallback.
PIDFILE={SERVICE_PIDFILE}
DAEMON=/usr/bin/sleep
case "$1" in
  start)
    start-stop-daemon --start --quiet --oknodo --background --make-pidfile \\
      --pidfile "$PIDFILE" --exec "$DAEMON" -- infinity ;;
  stop)
    start-stop-daemon --stop --quiet --oknodo --retry 5 --pidfile "$PIDFILE" --exec "$DAEMON"
    rc=$?
    rm -f "$PIDFILE"
    exit $rc ;;
  restart|force-reload)
    "$0" stop && "$0" start ;;
  status)
    if start-stop-daemon --status --pidfile "$PIDFILE" --exec "$DAEMON"; then
      echo "{SERVICE_NAME} is running"
    else
      rc=$?
      echo "{SERVICE_NAME} is not running"
      exit $rc
    fi ;;
  *)
    echo "Usage: $0 {{start|stop|restart|force-reload|status}}" >&2
    exit 3 ;;
esac
"""

POLICY_RC_D = """#!/bin/sh
# Written by opsforge.testing.debian. No init system runs on this test host, so
# invoke-rc.d cannot tell the runlevel: answer as sysvinit in runlevel 2 would.
# invoke-rc.d passes "(start)" when it found no start link; allow it when the
# service is enabled in /etc/rc2.d. 0: run it, 101: don't.
case "$2" in
  "("*")") ls /etc/rc2.d/S[0-9][0-9]"$1" >/dev/null 2>&1 && exit 0; exit 101 ;;
  *) exit 0 ;;
esac
"""

SYSTEMD_UNIT = """[Unit]
Description=opsforge's test service: a daemon under systemd
# Written by opsforge.testing.debian.

[Service]
ExecStart=/usr/bin/sleep infinity
ExecReload=/bin/true

[Install]
WantedBy=multi-user.target
"""

SSHD_DROP_IN = """# Written by opsforge.testing.debian; Debian's own sshd_config includes it first.
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxSessions 100
MaxStartups 200:30:400
LogLevel VERBOSE
"""


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def write_host_files(
    merged: Path,
    *,
    name: str,
    address: str,
    host_key: Path,
    client_pub: Path,
    systemd: bool = False,
) -> None:
    """The per-host files in the host's root ``merged``: identity, sshd, init, service
    (a native unit under ``systemd``, an init.d script and ``policy-rc.d`` otherwise)."""
    _write(merged / "etc/hostname", f"{name}\n")
    _write(
        merged / "etc/hosts",
        f"127.0.0.1\tlocalhost\n{address}\t{name}\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    )
    ssh = merged / "etc/ssh"
    shutil.copyfile(host_key, ssh / "ssh_host_ed25519_key")
    os.chmod(ssh / "ssh_host_ed25519_key", 0o600)
    shutil.copyfile(host_key.with_name(host_key.name + ".pub"), ssh / "ssh_host_ed25519_key.pub")
    _write(ssh / "sshd_config.d/opsforge-test.conf", SSHD_DROP_IN)
    dot_ssh = merged / "root/.ssh"
    dot_ssh.mkdir(mode=0o700, exist_ok=True)
    _write(dot_ssh / "authorized_keys", client_pub.read_text(), 0o600)
    if systemd:
        _write(merged / f"etc/systemd/system/{SERVICE_NAME}.service", SYSTEMD_UNIT)
        # a container has no consoles to serve: no getty waiting on one
        getty = merged / "etc/systemd/system/console-getty.service"
        if not getty.is_symlink():
            getty.symlink_to("/dev/null")
        return
    _write(merged / INIT_PATH.lstrip("/"), INIT, 0o755)
    _write(merged / "etc/init.d" / SERVICE_NAME, SERVICE, 0o755)
    _write(merged / "usr/sbin/policy-rc.d", POLICY_RC_D, 0o755)
