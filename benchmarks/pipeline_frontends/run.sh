#!/usr/bin/env bash
# The same 1 -> 50 -> 1 pipeline in each front-end's format, timed; see README.md.
set -euo pipefail
cd "$(dirname "$0")"
exec ../../.venv/bin/python bench.py "$@"
