"""``opsforge apply`` as a user runs it, for the tests against Debian test hosts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any


def apply_cli(
    tmp_path: Path, pattern: str, source: str, *args: str, inventory: Path, name: str = "deploy.py"
) -> tuple[Counter[str], list[dict[str, Any]], str]:
    """Write ``source`` (a Python deploy or, named ``*.yml``, a playbook) and apply it to
    ``pattern`` with JSON output; asserts exit 0. The operation statuses, events, stderr."""
    deploy = tmp_path / name
    deploy.write_text(source)
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(tmp_path / "state"), NO_COLOR="1")
    env.pop("OPSFORGE_INVENTORY", None)
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "opsforge", "apply", str(deploy), pattern),
            *("-i", str(inventory), "-o", "json", *args),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    counts = Counter(e["status"] for e in events if e["kind"] == "operation")
    return counts, events, proc.stderr
