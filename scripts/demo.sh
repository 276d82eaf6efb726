#!/usr/bin/env bash
# The main job on embedded defaults: a 3-host local SSH lab, an ad-hoc command and a
# file copy across it, then a deploy (check with diffs, apply, apply again: 0 changed),
# each with its recap; the lab is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
export OPSFORGE_STATE_DIR="${OPSFORGE_STATE_DIR:-$PWD/.opsforge-demo}"
lab="$OPSFORGE_STATE_DIR/lab"
inv="$lab/inventory.yml"
trap 'opsforge lab down --root "$lab" >/dev/null 2>&1 || true' EXIT

show() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; "$@"; }

show opsforge lab up 3 --root "$lab"
show opsforge exec all -i "$inv" -- 'echo "sshd port ${SSH_CONNECTION##* }, user $(id -un)"; uname -sr'
show opsforge copy all -i "$inv" README.md "$lab/README.copy" --mode 0640
show opsforge exec all -i "$inv" --group-output -- "sha256sum $lab/README.copy; stat -c %a $lab/README.copy"
show opsforge apply examples/webapp/deploy.py -i "$inv" --check --diff lab1
show opsforge apply examples/webapp/deploy.py -i "$inv"
show opsforge apply examples/webapp/deploy.py -i "$inv"
show opsforge runs list -n 5
