#!/usr/bin/env bash
# Set up a development environment: system packages (when root) and .venv with opsforge.
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || need_apt+=(openssh-client)
command -v sudo >/dev/null 2>&1 || need_apt+=(sudo)
command -v pgrep >/dev/null 2>&1 || need_apt+=(procps)
# Debian test hosts (tests/debian_hosts, root only): debootstrap builds the cached rootfs,
# ip makes their network namespaces and veth pairs
if [ "$(id -u)" = 0 ]; then
  command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need_apt+=(debootstrap)
  command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || need_apt+=(iproute2)
  # systemd test hosts boot the rootfs's systemd in a container
  command -v systemd-nspawn >/dev/null 2>&1 || need_apt+=(systemd-container)
  # pipeline docker executor tests (tests/pipelines): a private dockerd + a busybox image
  command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ] || need_apt+=(docker.io)
  dpkg -s busybox-static >/dev/null 2>&1 || need_apt+=(busybox-static)
fi
# the metrics agent's tests and benchmark: the real Prometheus, promtool, Alertmanager,
# Pushgateway and node_exporter (tests start their own on loopback ports)
command -v prometheus >/dev/null 2>&1 || need_apt+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || need_apt+=(prometheus-alertmanager)
command -v prometheus-node-exporter >/dev/null 2>&1 || need_apt+=(prometheus-node-exporter)
command -v prometheus-pushgateway >/dev/null 2>&1 || need_apt+=(prometheus-pushgateway)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: apt-get install ${need_apt[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${need_apt[@]}" >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q "${need_apt[@]}" >/dev/null; }
  else
    echo "bootstrap: missing ${need_apt[*]}; install them: sudo apt-get install ${need_apt[*]}" >&2
  fi
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "bootstrap: opsforge needs Python 3.11 or newer ($PY is $("$PY" -V 2>&1))" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.opsforge-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q -U "pip>=25.1" 2>&1 | grep -v '^WARNING: Location' >&2 || true
  .venv/bin/python -m pip install -q -e . --group dev 2>&1 | grep -v '^WARNING: Location' >&2 || true
  .venv/bin/python -c 'import opsforge.cli.main' && touch "$stamp"
fi
