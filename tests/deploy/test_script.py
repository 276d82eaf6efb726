"""The one-script-per-host format: sections, status markers, atomic writes — run by real sh."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from opsforge.deploy.commands import Command, WriteFile, mask
from opsforge.deploy.script import Section, build_script, new_token, parse_output
from opsforge.types import Secret


def run(sections: list[Section], *, stop_on_error: bool = True) -> list:  # type: ignore[type-arg]
    token = new_token()
    proc = subprocess.run(
        ["sh", "-s"],
        input=build_script(sections, token, stop_on_error=stop_on_error),
        capture_output=True,
        check=False,
    )
    return parse_output(proc.stdout.decode(), token, len(sections))


def test_each_section_reports_its_status_and_output() -> None:
    results = run(
        [
            Section((Command("echo one"),)),
            Section((Command("echo two >&2"), Command("echo three"))),
        ]
    )
    assert [(r.exit_code, r.output) for r in results] == [(0, "one"), (0, "two\nthree")]


def test_a_failure_stops_the_section_and_the_script() -> None:
    results = run(
        [
            Section((Command("echo before"), Command("false"), Command("echo never"))),
            Section((Command("echo not run"),)),
        ]
    )
    assert results[0].exit_code == 1
    assert results[0].output == "before"
    assert results[1].exit_code is None


def test_may_fail_sections_do_not_stop_the_script() -> None:
    results = run([Section((Command("exit 3"),), may_fail=True), Section((Command("echo x"),))])
    assert [r.exit_code for r in results] == [3, 0]


def test_output_without_trailing_newline_and_marker_lookalikes() -> None:
    results = run(
        [Section((Command("printf 'no newline'"),)), Section((Command("echo OPSF 0 end 9"),))]
    )
    assert results[0].output == "no newline"
    assert results[1].output == "OPSF 0 end 9"


def test_sections_do_not_read_the_scripts_stdin() -> None:
    results = run([Section((Command("cat"),)), Section((Command("echo after"),))])
    assert [r.output for r in results] == ["", "after"]


@pytest.mark.parametrize("content", [b"", b"plain\n", bytes(range(256)), b"x" * 300_000])
def test_write_file_is_binary_safe(tmp_path: Path, content: bytes) -> None:
    target = tmp_path / "sub dir" / "it's a file"
    target.parent.mkdir()
    results = run([Section((WriteFile(str(target), content, mode=0o600),))])
    assert results[0].ok, results[0].output
    assert target.read_bytes() == content
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_failed_write_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "conf"
    target.write_text("old\n")
    results = run(
        [
            Section((WriteFile(str(target), b"new\n", owner="no-such-user-xyz"),)),
        ]
    )
    assert results[0].exit_code not in (0, None)
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conf"]


def test_truncated_output_marks_the_running_section_unfinished() -> None:
    token = "OPSFtest"
    output = f"\n{token} 0 begin\nhalf"
    results = parse_output(output, token, 2)
    assert results[0].exit_code is None
    assert results[0].output == "half"
    assert results[1].exit_code is None


def test_secrets_are_masked_when_shown() -> None:
    secret = Secret("s3cr3t pw")
    command = Command.build("mysql", "-p", secret, raw=["<", "/tmp/x"])
    assert "s3cr3t" in command.text
    assert command.shown() == "mysql -p *** < /tmp/x"
    assert str(command) == command.shown()
    assert mask("value s3cr3t pw here", [secret]) == "value *** here"
    write = WriteFile("/etc/x", b"s3cr3t pw", secrets=(secret,))
    assert "s3cr3t" not in write.shown()
