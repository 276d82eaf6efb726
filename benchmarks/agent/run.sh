#!/usr/bin/env bash
# agent benchmark: opsforge's agent vs the Debian node_exporter on this machine, the same
# collectors, alternating scrapes. CPU time per scrape, scrape latency, bytes. See README.md.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
if ! command -v prometheus-node-exporter >/dev/null 2>&1; then
  apt-get -o DPkg::Lock::Timeout=600 install -y prometheus-node-exporter >/dev/null
fi
PY="${PYTHON:-$REPO/.venv/bin/python}"
exec "$PY" "$HERE/bench.py" "$@"
