"""spawn: a local argv run directly (one process), streamed, its process group killed."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from opsforge.connectors import spawn as spawn_module
from opsforge.connectors.spawn import kill_group, spawn
from opsforge.errors import CommandTimeout
from opsforge.pipelines.executors import shell_argv
from opsforge.testing import wait_gone

from .conftest import arun, assert_cancel_kills, sleeper

ENV = {"PATH": os.environ["PATH"], "A": "it's"}


@pytest.fixture(autouse=True, params=["pidfd", "asyncio"])
def start_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs both ways a program can be started: watched through a pidfd
    (Linux 5.3+), and through asyncio's subprocess support (the fallback elsewhere)."""
    if request.param == "pidfd" and not spawn_module._PIDFD:
        pytest.skip("this kernel has no pidfd_open")
    monkeypatch.setattr(spawn_module, "_PIDFD", request.param == "pidfd")
    return str(request.param)


def test_exit_code_env_cwd_and_streams(tmp_path: Path) -> None:
    out: list[str] = []
    err: list[str] = []
    script = 'echo "$A"; pwd; echo oops >&2; cat; exit 5'
    result = arun(
        spawn(
            ["sh", "-c", script],
            env=ENV,
            cwd=str(tmp_path),
            on_stdout=out.append,
            on_stderr=err.append,
            capture=True,
        )
    )
    assert result.exit_code == 5
    assert result.stdout == f"it's\n{tmp_path}\n"  # stdin is /dev/null: cat ends at once
    assert "".join(out) == result.stdout
    assert "".join(err) == "oops\n"


def test_large_output_streams_without_capture(tmp_path: Path) -> None:
    seen: list[str] = []
    result = arun(
        spawn(
            ["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' y; echo tail >&2"],
            env=ENV,
            cwd=str(tmp_path),
            on_stdout=seen.append,
        )
    )
    assert result.exit_code == 0
    assert result.stdout == ""  # not captured: memory stays bounded
    assert sum(map(len, seen)) == 3_000_000


def test_the_program_is_the_only_process(tmp_path: Path) -> None:
    """No wrapper: the child's parent is this process and it leads its own group."""
    result = arun(
        spawn(
            ["sh", "-c", 'echo "$PPID $$ $(ps -o pgid= -p $$)"'],
            env=ENV,
            cwd=str(tmp_path),
            capture=True,
        )
    )
    ppid, pid, pgid = result.stdout.split()
    assert int(ppid) == os.getpid()
    assert pid == pgid


def test_missing_program_and_directory_are_exit_codes_with_a_reason(tmp_path: Path) -> None:
    missing = arun(spawn(["no-such-shell-xyz", "x"], env=ENV, cwd=str(tmp_path), capture=True))
    assert missing.exit_code == 127
    assert "cannot run no-such-shell-xyz" in missing.stderr
    gone = tmp_path / "gone"
    nodir = arun(spawn(["true"], env=ENV, cwd=str(gone), capture=True))
    assert nodir.exit_code == 126
    assert f"cannot change to directory {gone}" in nodir.stderr


def test_timeout_kills_the_whole_group_and_keeps_partial_output(tmp_path: Path) -> None:
    command, patterns = sleeper()
    began = time.monotonic()
    with pytest.raises(CommandTimeout) as caught:
        arun(
            spawn(
                ["sh", "-c", f"echo partial; {command}"],
                env=ENV,
                cwd=str(tmp_path),
                timeout=0.5,
                capture=True,
            )
        )
    assert time.monotonic() - began < 5
    assert caught.value.result.stdout == "partial\n"
    assert caught.value.result.timed_out
    for pattern in patterns:
        assert wait_gone(pattern) == [], pattern


def test_cancel_kills_the_whole_group(tmp_path: Path) -> None:
    assert_cancel_kills(lambda command: spawn(["sh", "-c", command], env=ENV, cwd=str(tmp_path)))


def test_kill_group_escalates_to_kill_when_term_is_ignored(tmp_path: Path) -> None:
    async def main() -> float:
        proc = await asyncio.create_subprocess_exec(
            "sh", "-c", "trap '' TERM; while :; do sleep 0.05; done", start_new_session=True
        )
        await asyncio.sleep(0.2)
        began = time.monotonic()
        await kill_group(proc.pid, grace=0.3)
        assert await asyncio.wait_for(proc.wait(), 5) == -9
        return time.monotonic() - began

    assert arun(main()) < 3
    with pytest.raises(ValueError, match="refusing"):
        arun(kill_group(1))


@pytest.mark.parametrize(
    ("shell", "argv"),
    [
        ("bash -e {0}", ["bash", "-e", "/s p/x.sh"]),
        (
            "bash --noprofile --norc -eo pipefail {0}",
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "/s p/x.sh"],
        ),
        ("python3", ["python3", "/s p/x.sh"]),
        ("cat {0} | sh", ["/bin/sh", "-c", "exec cat '/s p/x.sh' | sh"]),
        ("sh -e {0} > /dev/null", ["/bin/sh", "-c", "exec sh -e '/s p/x.sh' > /dev/null"]),
    ],
)
def test_shell_argv(shell: str, argv: list[str]) -> None:
    assert shell_argv(shell, "/s p/x.sh") == argv
