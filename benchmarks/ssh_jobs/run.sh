#!/usr/bin/env bash
# ssh_jobs: one CI job on an ssh host (files in, steps, artifacts out) with opsforge and
# with rsync + OpenSSH. Writes only under $ROOT (default /tmp/ssh_jobs). See README.md.
set -euo pipefail
cd "$(dirname "$0")"
export ROOT="${ROOT:-/tmp/ssh_jobs}"
case "$ROOT" in /tmp/*) ;; *) echo "ROOT must be under /tmp (got $ROOT)" >&2; exit 1;; esac
for tool in rsync sshd; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
    package=$tool; [ "$tool" = sshd ] && package=openssh-server
    apt-get -o DPkg::Lock::Timeout=600 install -y -q "$package" >/dev/null
  fi
done
exec ../../.venv/bin/python bench.py "$@"
