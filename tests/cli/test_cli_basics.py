"""The CLI's own surface: version, help, completion, and clean errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge import __version__

from .conftest import CliRunner


def test_version(opsforge_cli: CliRunner) -> None:
    proc = opsforge_cli("--version")
    assert proc.returncode == 0
    assert __version__ in proc.stdout


def test_help_has_examples_and_exit_codes(opsforge_cli: CliRunner) -> None:
    proc = opsforge_cli("--help")
    assert proc.returncode == 0
    assert "Examples:" in proc.stdout
    assert "130" in proc.stdout
    for command in ("exec", "copy", "fetch", "inventory", "lab", "runs", "completion"):
        assert command in proc.stdout


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F"),
        ("zsh", "compdef"),
        ("fish", "complete --no-files --command opsforge"),
    ],
)
def test_completion_scripts(opsforge_cli: CliRunner, shell: str, marker: str) -> None:
    proc = opsforge_cli("completion", shell)
    assert proc.returncode == 0, proc.stderr
    assert marker in proc.stdout


def test_unknown_command_is_a_usage_error(opsforge_cli: CliRunner) -> None:
    proc = opsforge_cli("frobnicate")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_exec_without_inventory_says_how(opsforge_cli: CliRunner) -> None:
    proc = opsforge_cli("exec", "all", "--", "true")
    assert proc.returncode == 2
    assert "no inventory" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_inventory_file(opsforge_cli: CliRunner, tmp_path: Path) -> None:
    proc = opsforge_cli("exec", "all", "-i", str(tmp_path / "nope.ini"), "--", "true")
    assert proc.returncode == 2
    assert "nope.ini" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_malformed_inventory_names_file_and_line(opsforge_cli: CliRunner, tmp_path: Path) -> None:
    inv = tmp_path / "hosts.yml"
    inv.write_text("all:\n  hosts:\n    web1:\n  children: [oops\n")
    proc = opsforge_cli("exec", "all", "-i", str(inv), "--", "true")
    assert proc.returncode == 2
    assert f"{inv}:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_pattern_suggests_close_names(opsforge_cli: CliRunner, tmp_path: Path) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text("[web]\nweb01\nweb02\n[db]\ndb01\n")
    proc = opsforge_cli("exec", "wbe", "-i", str(inv), "--", "true")
    assert proc.returncode == 2
    assert "web" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_serial_value(opsforge_cli: CliRunner) -> None:
    proc = opsforge_cli("exec", "all", "-i", "@local,", "--serial", "abc", "--", "true")
    assert proc.returncode == 2
    assert "--serial" in proc.stderr


def test_bad_mode_for_copy(opsforge_cli: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "f"
    src.write_text("x")
    proc = opsforge_cli("copy", "all", "-i", "@local,", str(src), "/tmp/x", "--mode", "9z")
    assert proc.returncode == 2
    assert "--mode" in proc.stderr


def test_inventory_graph_and_host(opsforge_cli: CliRunner, tmp_path: Path) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text("[web]\nweb01 http_port=8080\n[web:vars]\ntier=front\n")
    graph = opsforge_cli("inventory", "graph", "-i", str(inv))
    assert graph.returncode == 0, graph.stderr
    assert "@web" in graph.stdout
    assert "web01" in graph.stdout
    host = opsforge_cli("inventory", "host", "web01", "-i", str(inv), "--json")
    assert host.returncode == 0, host.stderr
    assert '"http_port"' in host.stdout
    assert '"tier"' in host.stdout
    assert "hosts.ini" in host.stdout


def test_runs_list_on_empty_history(opsforge_cli: CliRunner) -> None:
    proc = opsforge_cli("runs", "list")
    assert proc.returncode == 0, proc.stderr


def test_runs_show_unknown(opsforge_cli: CliRunner) -> None:
    proc = opsforge_cli("runs", "show", "nope")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
