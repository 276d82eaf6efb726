"""Fixtures for the scanner tests: the corpus tree and the real console script."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ScanCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def scan_cli(tmp_path: Path) -> ScanCli:
    """``scan_cli("scan", PATH, ...)`` runs ``python -m opsforge`` (never raises)."""
    state = tmp_path / "state"
    state.mkdir()

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:  # fmt: skip
        full_env = dict(os.environ, OPSFORGE_STATE_DIR=str(state), NO_COLOR="1", COLUMNS="200")
        full_env.pop("OPSFORGE_ADVISORY_DB", None)
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "opsforge", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
            env=full_env,
            check=False,
        )

    return run
