#!/usr/bin/env bash
# logmine benchmark: opsforge's template miner vs drain3 (TemplateMiner with drain3's
# example masking, and bare Drain) on the same generated file; grouping accuracy of
# each on the labelled sets; opsforge's parsers in records/s. See README.md.
# Writes only under $LOGMINE_ROOT (default /tmp/logmine). Usage: run.sh [LINES] [REPEATS]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
ROOT="${LOGMINE_ROOT:-/tmp/logmine}"
LINES="${1:-1000000}"
REPEATS="${2:-1}"
PY="${PYTHON:-$REPO/.venv/bin/python}"
mkdir -p "$ROOT"
# drain3 lives in the benchmark's own venv, never in the project's dependencies
if [ ! -x "$ROOT/venv/bin/python" ] || ! "$ROOT/venv/bin/python" -c "import drain3" 2>/dev/null; then
  python3 -m venv "$ROOT/venv"
  "$ROOT/venv/bin/pip" install -q drain3
fi
DRAIN_PY="$ROOT/venv/bin/python"
DATA="$ROOT/mixed-$LINES.log"
[ -s "$DATA" ] || "$PY" "$HERE/bench.py" data "$DATA" "$LINES"
OUT="$ROOT/results.jsonl"
: > "$OUT"
echo "data: $DATA ($(wc -l < "$DATA") lines); drain3 $("$DRAIN_PY" -c 'import importlib.metadata as m; print(m.version("drain3"))')" >&2
for round in $(seq 1 "$REPEATS"); do   # interleaved, so load changes hit every tool alike
  echo "{\"tool\": \"opsforge\", \"round\": $round, \"result\": $("$PY" "$HERE/bench.py" mine-opsforge "$DATA")}" >> "$OUT"
  echo "{\"tool\": \"drain3-masked\", \"round\": $round, \"result\": $("$DRAIN_PY" "$HERE/bench.py" mine-drain3 "$DATA" masked)}" >> "$OUT"
  echo "{\"tool\": \"drain3-bare\", \"round\": $round, \"result\": $("$DRAIN_PY" "$HERE/bench.py" mine-drain3 "$DATA" bare)}" >> "$OUT"
done
echo "{\"accuracy\": \"opsforge\", \"result\": $("$PY" "$HERE/bench.py" accuracy opsforge)}" >> "$OUT"
echo "{\"accuracy\": \"drain3-masked\", \"result\": $("$DRAIN_PY" "$HERE/bench.py" accuracy drain3-masked)}" >> "$OUT"
echo "{\"accuracy\": \"drain3-bare\", \"result\": $("$DRAIN_PY" "$HERE/bench.py" accuracy drain3-bare)}" >> "$OUT"
echo "{\"parse\": $("$PY" "$HERE/bench.py" parse)}" >> "$OUT"
"$PY" "$HERE/report.py" "$OUT"
