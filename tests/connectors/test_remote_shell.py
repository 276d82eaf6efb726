"""The shell wrapper and the stderr marker filter: pure, no processes but sh."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsforge.connectors.remote_shell import (
    CWD_EXIT_CODE,
    Event,
    StderrFilter,
    kill_command,
    wrap,
)
from opsforge.errors import UsageError
from opsforge.types import Become

TOKEN = "OPSFORGE-0123456789abcdef"


def sh(command: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["/bin/sh", "-c", command], input=stdin, capture_output=True, start_new_session=True
    )


def test_wrap_prints_pgid_then_runs_with_env_and_cwd(tmp_path: object) -> None:
    done = sh(wrap('echo "$A|$(pwd)"; echo e >&2', env={"A": "x 'y' $z"}, cwd="/tmp", token=TOKEN))
    assert done.stdout == b"x 'y' $z|/tmp\n"
    first, rest = done.stderr.split(b"\n", 1)
    assert first.startswith(f"{TOKEN}:pgid:".encode())
    assert rest == b"e\n"


def test_wrapper_pid_is_its_process_group() -> None:
    done = sh(wrap("ps -o pid=,pgid= -p $$", token=TOKEN))
    pid, pgid = done.stdout.split()
    assert pid == pgid
    assert done.stderr.split(b":")[-1].strip() == pid


def test_missing_cwd_is_a_clear_failure() -> None:
    done = sh(wrap("pwd", cwd="/no/such/dir", token=TOKEN))
    assert done.returncode == CWD_EXIT_CODE
    assert b"cannot change directory to /no/such/dir" in done.stderr


def test_bad_env_name_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        wrap("true", env={"A-B": "1"}, token=TOKEN)


def test_become_uses_sudo_without_pty_and_marks_become_ok() -> None:
    text = wrap("id -u", become=Become(user="postgres"), token=TOKEN)
    assert "sudo -H -S -p" in text
    assert "-u postgres" in text
    assert "-t" not in text.split()


def _run_filter(chunks: list[bytes], *, become: bool) -> tuple[StderrFilter, bytes, list[Event]]:
    filt = StderrFilter(TOKEN, become=become)
    out, events = b"", []
    for chunk in chunks:
        data, seen = filt.feed(chunk)
        out += data
        events += seen
    return filt, out + filt.finish(), events


STREAM = (
    f"{TOKEN}:pgid:4242\n".encode()
    + f"{TOKEN}:prompt:".encode()
    + f"{TOKEN}:become-ok\n".encode()
    + b"user stderr\n"
    + f"{TOKEN}:pgid:1\n".encode()  # after the command started: the command's own text
)


@given(st.lists(st.integers(min_value=1, max_value=len(STREAM)), max_size=12))
def test_filter_is_independent_of_chunking(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    chunks = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    filt, out, events = _run_filter([c for c in chunks if c], become=True)
    assert filt.pgid == 4242
    assert events == [Event.PGID, Event.PROMPT, Event.BECOME_OK]
    assert out == b"user stderr\n" + f"{TOKEN}:pgid:1\n".encode()


def test_filter_without_become_passes_everything_after_pgid() -> None:
    filt, out, events = _run_filter([f"{TOKEN}:pgid:7\nx".encode(), b"y\n"], become=False)
    assert (filt.pgid, out, events) == (7, b"xy\n", [Event.PGID])


def test_filter_sees_a_refused_password() -> None:
    chunks = [f"{TOKEN}:pgid:7\n{TOKEN}:prompt:".encode(), b"Sorry, try again.\n"]
    filt, out, _ = _run_filter([*chunks, f"{TOKEN}:prompt:".encode()], become=True)
    assert filt.prompts == 2
    assert filt.sudo_refused()
    assert b"Sorry" in out


def test_kill_command_kills_a_process_group() -> None:
    started = subprocess.Popen(
        ["/bin/sh", "-c", "sleep 1000.4242 & sleep 1001.4242"], start_new_session=True
    )
    done = sh(kill_command(started.pid, None, token=TOKEN))
    assert done.returncode == 0
    assert started.wait(5) != 0
    left = subprocess.run(["pgrep", "-f", "sleep 100[01].4242"], capture_output=True, check=False)
    assert left.stdout == b""


def test_kill_command_refuses_pgid_one() -> None:
    with pytest.raises(ValueError, match="refusing"):
        kill_command(1, None, token=TOKEN)
