"""``opsforge agent install``: the agent as a service on hosts, with opsforge's own deploy
operations (one facts round trip, one script; a second run changes nothing).

On each host: the distribution's packages for psutil, PyYAML, click and rich; a system
user ``opsforge-agent``; opsforge's source in ``<prefix>/lib`` (:mod:`.bundle`); the
agent config in ``/etc/opsforge/agent.yml``; then a systemd unit, or — where systemd
does not run — an LSB init script started with ``start-stop-daemon`` and enabled with
``update-rc.d`` (the deploy engine's service fallback). A change to the source, config
or unit restarts the agent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opsforge.deploy import HostContext, files, packages, services, users
from opsforge.errors import InputError

__all__ = ["SERVICE", "InstallSettings", "agent_deploy", "init_script", "systemd_unit"]

SERVICE = "opsforge-agent"
USER = "opsforge-agent"
CONFIG_PATH = "/etc/opsforge/agent.yml"

#: the runtime packages per OS family (the agent's imports besides the standard library)
PACKAGES = {
    "Debian": ("python3", "python3-psutil", "python3-yaml", "python3-click", "python3-rich"),
    "RedHat": ("python3", "python3-psutil", "python3-pyyaml", "python3-click", "python3-rich"),
    "Alpine": ("python3", "py3-psutil", "py3-yaml", "py3-click", "py3-rich"),
}


@dataclass(frozen=True, slots=True)
class InstallSettings:
    bundle: str  # the tarball on the controller
    config_text: str  # the agent config for /etc/opsforge/agent.yml
    listen: str = "0.0.0.0:9101"
    prefix: str = "/opt/opsforge"

    @property
    def command(self) -> str:
        return (
            f"/usr/bin/python3 -m opsforge agent serve --listen {self.listen}"
            f" --config {CONFIG_PATH}"
        )


def systemd_unit(s: InstallSettings) -> str:
    return f"""\
# managed by opsforge agent install
[Unit]
Description=opsforge metrics agent (node_exporter compatible)
After=network-online.target
Wants=network-online.target

[Service]
User={USER}
Environment=PYTHONPATH={s.prefix}/lib
ExecStart={s.command}
Restart=on-failure
RestartSec=5
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only

[Install]
WantedBy=multi-user.target
"""


def init_script(s: InstallSettings) -> str:
    args = s.command.split(" ", 1)[1]
    return f"""\
#!/bin/sh
# managed by opsforge agent install
### BEGIN INIT INFO
# Provides:          {SERVICE}
# Required-Start:    $remote_fs $network
# Required-Stop:     $remote_fs $network
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: opsforge metrics agent (node_exporter compatible)
### END INIT INFO
PIDFILE=/run/{SERVICE}.pid
LOG=/var/log/{SERVICE}.log
DAEMON=/usr/bin/python3
export PYTHONPATH={s.prefix}/lib

running() {{
  start-stop-daemon --status --pidfile "$PIDFILE"
}}

case "$1" in
  start)
    running && exit 0
    touch "$LOG" && chown {USER} "$LOG"
    start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$PIDFILE" \\
      --chuid {USER} --output "$LOG" --exec "$DAEMON" -- {args}
    sleep 1
    running || {{ echo "{SERVICE} did not stay up:" >&2; tail -n 5 "$LOG" >&2; exit 1; }}
    ;;
  stop)
    start-stop-daemon --stop --quiet --oknodo --retry TERM/10/KILL/5 --pidfile "$PIDFILE"
    rm -f "$PIDFILE"
    ;;
  restart|force-reload)
    "$0" stop
    "$0" start
    ;;
  status)
    if running; then echo "{SERVICE} is running"; exit 0; fi
    echo "{SERVICE} is not running"
    exit 3
    ;;
  *)
    echo "usage: $0 start|stop|restart|status" >&2
    exit 2
    ;;
esac
"""


def agent_deploy(s: InstallSettings) -> Callable[[HostContext], Any]:
    """The deploy function (``deploy(host)``) that installs the agent."""

    def deploy(host: HostContext) -> None:
        facts = host.facts
        names = PACKAGES.get(facts.os.family)
        if names is None:
            raise InputError(
                "agent install supports the Debian, RedHat and Alpine families,"
                f" not {facts.os.family!r}",
                host=host.name,
            )
        if facts.os.family == "Debian":
            packages.apt(host, list(names), cache_valid_time=86400)
        elif facts.os.family == "RedHat":
            packages.dnf(host, list(names))
        else:
            packages.apk(host, list(names))
        users.user(
            host, USER, system=True, home="/nonexistent", create_home=False,
            shell="/usr/sbin/nologin", comment="opsforge metrics agent",
        )  # fmt: skip
        restart = f"restart {SERVICE}"
        files.directory(host, f"{s.prefix}/lib", mode="0755")
        files.unarchive(host, s.bundle, f"{s.prefix}/lib", notify=restart)
        files.directory(host, "/etc/opsforge", mode="0755")
        files.copy(host, content=s.config_text, dest=CONFIG_PATH, mode="0644", notify=restart)
        if facts.service_mgr == "systemd":
            files.copy(
                host, content=systemd_unit(s), dest=f"/etc/systemd/system/{SERVICE}.service",
                mode="0644", notify=restart,
            )  # fmt: skip
            services.systemd(host, SERVICE, state="started", enabled=True, daemon_reload=True)
        else:
            files.copy(
                host, content=init_script(s), dest=f"/etc/init.d/{SERVICE}", mode="0755",
                notify=restart,
            )  # fmt: skip
            services.service(host, SERVICE, state="started", enabled=True)

        @host.handler(restart)
        def _(h: HostContext) -> None:
            services.service(h, SERVICE, state="restarted")

    return deploy
