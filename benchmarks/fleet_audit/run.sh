#!/usr/bin/env bash
# fleet_audit: opsforge audit --profile ssh against ssh-audit (its own CLI, its own venv)
# on N loopback sshd hosts with a weak configuration; then opsforge harden (first run and
# second run). Writes only under $ROOT (default /tmp/fleet_audit). See README.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
export ROOT="${ROOT:-/tmp/fleet_audit}"
case "$ROOT" in /tmp/*) ;; *) echo "ROOT must be under /tmp (got $ROOT)" >&2; exit 1;; esac
mkdir -p "$ROOT"
if [ "$(id -u)" != 0 ]; then echo "run as root (sshd -T reads the lab host keys)" >&2; exit 1; fi
OPSFORGE_VENV="${OPSFORGE_VENV:-$REPO/.venv}"
[ -x "$OPSFORGE_VENV/bin/opsforge" ] || { echo "run scripts/test.sh first" >&2; exit 1; }
# the peer in a venv of its own, never in opsforge's
if [ ! -x "$ROOT/venv/bin/ssh-audit" ]; then
  python3 -m venv "$ROOT/venv"
  "$ROOT/venv/bin/pip" install -q ssh-audit
fi
"$ROOT/venv/bin/pip" list 2>/dev/null | grep -i '^ssh-audit ' >&2 || true
export SSH_AUDIT="$ROOT/venv/bin/ssh-audit"
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX="$ROOT/pycache"
exec "$OPSFORGE_VENV/bin/python" "$HERE/bench.py" "$@"
