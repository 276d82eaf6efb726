"""Where state lives: $OPSFORGE_STATE_DIR, else the platform's user state directory."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

import opsforge.state
from opsforge.errors import StateError
from opsforge.state import state_dir


def test_env_var_wins_and_is_created_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "deep" / "state"
    monkeypatch.setenv("OPSFORGE_STATE_DIR", str(target))
    assert state_dir() == target
    assert target.is_dir()
    assert stat.S_IMODE(target.stat().st_mode) == 0o700


def test_default_is_the_user_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSFORGE_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_dir(create=False) == tmp_path / "xdg" / "opsforge"
    assert not (tmp_path / "xdg").exists()
    assert state_dir().is_dir()


def test_empty_env_var_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSFORGE_STATE_DIR", "  ")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert state_dir(create=False) == tmp_path / "opsforge"


def test_state_dir_that_cannot_be_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "blocker").write_text("")
    monkeypatch.setenv("OPSFORGE_STATE_DIR", str(tmp_path / "blocker" / "state"))
    with pytest.raises(StateError, match="blocker"):
        state_dir()


def test_public_api_is_pinned() -> None:
    assert sorted(opsforge.state.__all__) == [
        "DB_NAME", "ENV_VAR", "History", "RunRecorder", "RunRow", "SCHEMA_VERSION",
        "SupportsToDict", "state_dir",
    ]  # fmt: skip
