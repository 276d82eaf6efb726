"""Run the real console script in a subprocess, with a private state directory."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    path.mkdir()
    return path


@pytest.fixture
def opsforge_cli(state_dir: Path) -> CliRunner:
    """``opsforge_cli("exec", "all", ...)`` -> CompletedProcess (text, never raises)."""

    def run(
        *args: str,
        timeout: float = 120,
        input: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ, OPSFORGE_STATE_DIR=str(state_dir), NO_COLOR="1", COLUMNS="200")
        full_env.pop("OPSFORGE_INVENTORY", None)
        full_env.pop("ANSIBLE_INVENTORY", None)
        if env:
            full_env.update(env)
        return subprocess.run(
            [sys.executable, "-m", "opsforge", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            env=full_env,
            check=False,
        )

    return run
