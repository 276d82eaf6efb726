#!/usr/bin/env bash
# exec_fanout entry point: setup, then `exec true` / `exec 'cat /etc/os-release'` on
# N loopback sshd hosts with opsforge, plain parallel OpenSSH, Ansible and pyinfra.
# Writes only under $ROOT (default /tmp/exec_fanout). See README.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
export ROOT="${ROOT:-/tmp/exec_fanout}"
case "$ROOT" in /tmp/*) ;; *) echo "ROOT must be under /tmp (got $ROOT)" >&2; exit 1;; esac
case "$ROOT" in *..*) echo "ROOT must not contain '..'" >&2; exit 1;; esac
mkdir -p "$ROOT"

# 1. OpenSSH server (Debian package) if missing: the lab runs real sshd processes
if ! command -v sshd >/dev/null 2>&1 && [ ! -x /usr/sbin/sshd ]; then
  apt-get install -y openssh-server >/dev/null \
    || { apt-get update >/dev/null && apt-get install -y openssh-server >/dev/null; }
fi

# 2. opsforge: the repo's venv (the driver imports opsforge.testing.SSHLab from it)
OPSFORGE_VENV="${OPSFORGE_VENV:-$REPO/.venv}"
if [ ! -x "$OPSFORGE_VENV/bin/opsforge" ]; then
  echo "no $OPSFORGE_VENV/bin/opsforge: run scripts/test.sh (or scripts/demo.sh) first" >&2
  exit 1
fi

# 3. the peers in a venv of their own, never in opsforge's: reuse cfgbench's if it
#    has both, else $ROOT/venv (latest ansible-core and pyinfra from PyPI)
if [ -z "${BENCH_VENV:-}" ]; then
  if [ -x /tmp/cfgbench/venv/bin/ansible ] && [ -x /tmp/cfgbench/venv/bin/pyinfra ]; then
    BENCH_VENV=/tmp/cfgbench/venv
  else
    BENCH_VENV="$ROOT/venv"
  fi
fi
export BENCH_VENV
if [ ! -x "$BENCH_VENV/bin/ansible" ] || [ ! -x "$BENCH_VENV/bin/pyinfra" ]; then
  python3 -m venv "$BENCH_VENV"
  "$BENCH_VENV/bin/pip" install -q -U pip
  "$BENCH_VENV/bin/pip" install -q ansible-core pyinfra
fi
"$BENCH_VENV/bin/pip" list 2>/dev/null | grep -iE '^(ansible-core|pyinfra|paramiko|gevent) ' >&2 || true

# 4. run (sshd hosts are started and stopped by PID inside bench.py). Bytecode of
#    every Python tool is cached under $ROOT/pycache, never next to the sources.
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX="$ROOT/pycache"
exec "$OPSFORGE_VENV/bin/python" "$HERE/bench.py" "$@"
