"""The labelled corpus (benchmarks/logmine/logcorpus) and a CLI runner for log commands."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

CORPUS_DIR = Path(__file__).resolve().parents[3] / "benchmarks" / "logmine"
if str(CORPUS_DIR) not in sys.path:
    sys.path.insert(0, str(CORPUS_DIR))

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def logs_cli(tmp_path: Path) -> CliRunner:
    """``logs_cli("mine", FILE, ...)`` runs ``opsforge logs ...`` in a subprocess."""
    state = tmp_path / "state"
    state.mkdir()

    def run(
        *args: str, input: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, OPSFORGE_STATE_DIR=str(state), NO_COLOR="1", COLUMNS="200")
        return subprocess.run(
            [sys.executable, "-m", "opsforge", "logs", *args],
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
            env=env,
            check=False,
        )

    return run
