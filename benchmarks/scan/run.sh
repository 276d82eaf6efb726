#!/usr/bin/env bash
# scan benchmark: opsforge scan (code + secrets) against bandit and detect-secrets run as
# their own CLIs one after the other, on a large real tree (an installed site-packages).
# Writes only under $ROOT (default /tmp/scanbench). See README.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
export ROOT="${ROOT:-/tmp/scanbench}"
case "$ROOT" in /tmp/*) ;; *) echo "ROOT must be under /tmp (got $ROOT)" >&2; exit 1;; esac
case "$ROOT" in *..*) echo "ROOT must not contain '..'" >&2; exit 1;; esac
mkdir -p "$ROOT"

# 1. the peers in their own venv (the same bandit / detect-secrets ranges opsforge pins)
export BENCH_VENV="${BENCH_VENV:-$ROOT/venv}"
if [ ! -x "$BENCH_VENV/bin/bandit" ] || [ ! -x "$BENCH_VENV/bin/detect-secrets" ]; then
  python3 -m venv "$BENCH_VENV"
  "$BENCH_VENV/bin/pip" install -q "bandit>=1.9,<2" "detect-secrets>=1.5,<2" 2>&1 \
    | grep -v '^WARNING: Location' >&2 || true
fi

# 2. opsforge from the repo's venv
OPSFORGE_VENV="${OPSFORGE_VENV:-$REPO/.venv}"
if [ ! -x "$OPSFORGE_VENV/bin/opsforge" ]; then
  echo "no $OPSFORGE_VENV/bin/opsforge: run scripts/bootstrap.sh first" >&2
  exit 1
fi

# 3. the tree: by default the peers' own installed site-packages (bandit, detect-secrets,
#    rich, pygments, pip, setuptools, requests, urllib3, yaml, ...), ~1,500 Python files
export SCAN_TREE="${SCAN_TREE:-$(echo "$BENCH_VENV"/lib/python3*/site-packages)}"
#    SCAN_SUBSET="requests rich ..." copies only those entries of it into $ROOT/tree (a smaller
#    tree for a loaded machine; README says which was measured)
if [ -n "${SCAN_SUBSET:-}" ]; then
  rm -rf "$ROOT/tree" && mkdir -p "$ROOT/tree"
  for entry in $SCAN_SUBSET; do cp -r "$SCAN_TREE/$entry" "$ROOT/tree/"; done
  SCAN_TREE="$ROOT/tree"
fi
export PYTHONDONTWRITEBYTECODE=1
exec "$OPSFORGE_VENV/bin/python" "$HERE/bench.py" "$@"
