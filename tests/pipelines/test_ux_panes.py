"""``pipeline run --ui panes`` as a user sees it: the real CLI under a pseudo-terminal.

The output is what the terminal received (escape sequences and all); the assertions are
on its text: job names in pane titles, jobs' last lines, the finished-job status lines,
the recap, secrets masked, the cursor shown again at the end (also after Ctrl-C).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

from .conftest import ProjectFactory
from .test_cli import cli
from .test_runtime import _gone

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
SHOW_CURSOR = "\x1b[?25h"
HIDE_CURSOR = "\x1b[?25l"
ERASE_UP = "\x1b[1A\x1b[2K"
REDRAW = re.compile(r"\r\x1b\[2K((?:\x1b\[1A\x1b\[2K)*)")
SECRET = "s3cr3t-pane-value"

CI = """\
build:
  script:
    - for i in 1 2 3 4 5 6 7 8; do echo "build line $i"; sleep 0.1; done
    - echo "token $TOKEN"
    - echo build-last-line
    - sleep 0.8
test:
  script:
    - for i in $(seq 1 40); do echo "test line $i"; done
    - sleep 0.8
lint:
  script: [echo lint-said-no, exit 1]
  allow_failure: true
"""


def in_pty(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    *,
    rows: int = 24,
    cols: int = 100,
    until: Callable[[str], bool] | None = None,
    then: Callable[[subprocess.Popen[bytes]], None] | None = None,
    stderr: Path | None = None,
) -> tuple[int, str]:
    """Run ``argv`` with stdin/stdout/stderr (or stderr to the file ``stderr``) on a
    pseudo-terminal of ``rows`` x ``cols``; when ``until(output so far)`` first holds,
    call ``then(process)``. Returns the exit code and everything the terminal received."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    err = os.open(stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC) if stderr else slave
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=err, start_new_session=True
    )
    os.close(slave)
    if stderr:
        os.close(err)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
                if until is not None and then is not None and until(_text(chunks)):
                    then(proc)
                    until = None
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, b"".join(chunks).decode("utf-8", "replace")


def _text(chunks: list[bytes]) -> str:
    return b"".join(chunks).decode("utf-8", "replace")


def _env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env.update(TERM="xterm-256color", OPSFORGE_STATE_DIR=str(state))
    return env


def _plain(raw: str) -> str:
    return ANSI.sub("", raw)


def test_panes_show_running_jobs_statuses_and_the_recap(
    project: ProjectFactory, tmp_path: Path
) -> None:
    root = project(CI)
    argv = [sys.executable, "-m", "opsforge", "pipeline", "run", "--in-place", "--ui", "panes"]
    code, raw = in_pty([*argv, "--secret", f"TOKEN={SECRET}"], root, _env(tmp_path / "s"))
    text = _plain(raw)
    assert code == 0, text
    assert SECRET not in raw
    assert "token ***" in text
    # panes: a titled box per running job with its last lines
    for job in ("build", "test"):
        assert re.search(rf"╭─ {job} · \d+s ─", text), text
    assert "test line 40" in text
    assert "build-last-line" in text
    assert re.search(r"pipeline: [1-3] running, [0-2] of 3 done", text), text
    # a status line per finished job, then the recap table
    assert "✓ build success" in text
    assert "✓ test success" in text
    assert "✗ lint failed (allowed to fail)" in text
    recap = text[text.rindex("job ") :]
    assert re.search(r"lint\s+test\s+failed \(allowed\)", recap), recap
    assert "pipeline passed" in recap
    # the lines view is not mixed in, and the cursor comes back
    assert "[build] build line" not in text
    assert HIDE_CURSOR in raw
    assert raw.rindex(SHOW_CURSOR) > raw.rindex(HIDE_CURSOR)
    # logs and events are as with --ui lines
    logs = list((root / ".opsforge" / "runs").glob("*/logs/build.log"))
    assert "token ***" in logs[0].read_text()


def test_a_failed_job_keeps_its_last_lines_under_its_status(
    project: ProjectFactory, tmp_path: Path
) -> None:
    root = project(
        "bad:\n  script:\n    - for i in 1 2 3 4 5; do echo boom-$i; done; sleep 0.5; exit 2\n"
        "ok:\n  script: [sleep 1]\n"
    )
    argv = [sys.executable, "-m", "opsforge", "pipeline", "run", "--in-place", "--ui", "panes"]
    code, raw = in_pty(argv, root, _env(tmp_path / "s"))
    assert code == 1
    last = list(REDRAW.finditer(raw))[-1]
    final = _plain(raw[last.end() :])  # the last frame, then the recap
    status = final.index("✗ bad failed")
    assert final[status:].split("\n")[1:4] == ["    boom-3", "    boom-4", "    boom-5"]
    assert "boom-2" not in final
    assert "✓ ok success" in final


def test_panes_fit_the_terminal_height(project: ProjectFactory, tmp_path: Path) -> None:
    jobs = "".join(
        f"j{i}:\n  script:\n    - for n in $(seq 1 30); do echo j{i}-line-$n; done\n    - sleep 1\n"
        for i in range(8)
    )
    root = project(jobs)
    argv = [sys.executable, "-m", "opsforge", "pipeline", "run", "--in-place", "--ui", "panes"]
    code, raw = in_pty(argv, root, _env(tmp_path / "s"), rows=12, cols=80)
    text = _plain(raw)
    assert code == 0, text
    # 12 rows: the header and a few one-line panes, the other running jobs named
    assert re.search(r"… \d more running: j\d", text), text
    assert "line-30" in text
    # each redraw first erases the previous frame line by line: no frame was taller
    # than the terminal (a taller one would have scrolled away and been left behind)
    erased = [len(up) // len(ERASE_UP) + 1 for up in REDRAW.findall(raw)]
    assert len(erased) > 3, raw
    assert max(erased) <= 12
    assert max(erased) >= 10  # the panes use the height


def test_ctrl_c_stops_the_run_and_leaves_the_terminal_sane(
    project: ProjectFactory, tmp_path: Path
) -> None:
    pidfile = tmp_path / "sleep.pid"
    root = project(f"slow:\n  script:\n    - sleep 60 & echo $! > {pidfile}; echo started; wait\n")
    argv = [sys.executable, "-m", "opsforge", "pipeline", "run", "--in-place", "--ui", "panes"]

    def interrupt(proc: subprocess.Popen[bytes]) -> None:
        for _ in range(100):
            if pidfile.exists() and pidfile.read_text().strip():
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the foreground process

    code, raw = in_pty(
        argv, root, _env(tmp_path / "s"), until=lambda out: "started" in out, then=interrupt
    )
    text = _plain(raw)
    assert code == 130, text
    assert "interrupt: killing running jobs" in text
    assert raw.rindex(SHOW_CURSOR) > raw.rindex(HIDE_CURSOR)
    assert "✗ slow canceled" in text  # its status line
    assert re.search(r"slow\s+test\s+canceled", text)  # the recap
    assert _gone(int(pidfile.read_text()))


def test_panes_on_a_pipe_fall_back_to_lines(project: ProjectFactory, tmp_path: Path) -> None:
    root = project("a:\n  script: [echo hello]\n")
    proc = cli(root, "pipeline", "run", "--in-place", "--ui", "panes", state=tmp_path / "s")
    assert proc.returncode == 0, proc.stderr
    assert "note: --ui panes needs a terminal on stdout; showing lines" in proc.stderr
    assert "[a] hello" in proc.stdout


def test_lines_on_a_terminal_are_colored_prefixed_and_masked(
    project: ProjectFactory, tmp_path: Path
) -> None:
    root = project(
        "build:\n  script:\n    - echo \"token $TOKEN\"\n    - printf 'progress\\r50%%\\n'\n"
        "    - echo oops >&2\n"
    )
    argv = [sys.executable, "-m", "opsforge", "pipeline", "run", "--in-place"]
    code, raw = in_pty([*argv, "--secret", f"TOKEN={SECRET}"], root, _env(tmp_path / "s"))
    assert code == 0, raw
    assert SECRET not in raw
    lines = raw.split("\n")
    token = next(line for line in lines if "token ***" in line)
    # the job's color around the prefix and its stdout line, stderr lines in red
    assert re.fullmatch(r"\x1b\[36m\[build\] token \*\*\*\x1b\[0m\r?", token), repr(token)
    assert any(re.search(r"\x1b\[31moops\x1b\[0m", line) for line in lines)
    assert "[build] progress50%" in _plain(raw)  # a carriage return inside a line is dropped


def test_panes_with_stderr_to_a_file(project: ProjectFactory, tmp_path: Path) -> None:
    root = project("a:\n  script: [echo hello-pane, sleep 0.5]\n")
    argv = [sys.executable, "-m", "opsforge", "pipeline", "run", "--in-place", "--ui", "panes"]
    errors = tmp_path / "stderr.txt"
    code, raw = in_pty(argv, root, _env(tmp_path / "s"), stderr=errors)
    assert code == 0, raw
    assert "╭─ a · " in _plain(raw)
    assert "✓ a success" in _plain(raw)
    recap = errors.read_text()  # the recap goes to stderr, and only there
    assert "pipeline passed" in recap
    assert "pipeline passed" not in raw


def test_panes_on_a_dumb_terminal_fall_back_to_lines(
    project: ProjectFactory, tmp_path: Path
) -> None:
    root = project("a:\n  script: [echo hello]\n")
    argv = [sys.executable, "-m", "opsforge", "pipeline", "run", "--in-place", "--ui", "panes"]
    env = {**_env(tmp_path / "s"), "TERM": "dumb"}
    code, raw = in_pty(argv, root, env)
    assert code == 0, raw
    assert "note: --ui panes cannot redraw a TERM=dumb terminal; showing lines" in raw
    assert "[a] hello" in _plain(raw)
