#!/usr/bin/env bash
# The main job on embedded defaults: a 3-host local SSH lab, an ad-hoc command and a
# file copy across it, each with its recap; the lab is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export OPSFORGE_STATE_DIR="${OPSFORGE_STATE_DIR:-$PWD/.opsforge-demo}"
of=.venv/bin/opsforge
lab="$OPSFORGE_STATE_DIR/lab"
trap '$of lab down --root "$lab" >/dev/null 2>&1 || true' EXIT

$of lab up 3 --root "$lab"
echo; echo "\$ opsforge exec all -i $lab/inventory.yml -- 'hostname; uname -sr; id -un'"
$of exec all -i "$lab/inventory.yml" -- 'echo "port $SSH_CONNECTION" | cut -d" " -f1,5; uname -sr; id -un'
echo; echo "\$ opsforge copy all -i $lab/inventory.yml README.md /tmp/opsforge-demo-README.md --mode 0640"
$of copy all -i "$lab/inventory.yml" README.md "$lab/copied-README.md" --mode 0640
echo; echo "\$ opsforge exec all -i $lab/inventory.yml --group-output -- sha256sum $lab/copied-README.md"
$of exec all -i "$lab/inventory.yml" --group-output -- sha256sum "$lab/copied-README.md"
echo; echo "\$ opsforge runs list"
$of runs list -n 3
