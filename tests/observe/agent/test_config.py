"""Agent config files: every mistake is a clear error naming file:line, exit code 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from observe.servers import opsforge_argv
from opsforge.observe.agent import AgentConfig, load_config
from opsforge.observe.errors import ObserveConfigError

GOOD = """\
listen: 127.0.0.1:9109
collectors:
  disable: [pressure]
filesystem:
  mount_points_exclude: '^/(proc|sys)($|/)'
netdev: {device_exclude: '^(lo|veth.*)$'}
textfile: {directory: /tmp/prom}
processes:
  - {name: init, pidfile: /run/init.pid}
  - {name: py, cmdline: 'python.*'}
checks:
  - {name: site, kind: http, url: 'http://127.0.0.1:1/', timeout: 1}
  - {name: ssh, kind: tcp, address: '127.0.0.1:22'}
  - {name: cert, kind: tls, address: 'example.org', min_days: 14}
  - {name: ok, kind: command, command: 'true'}
  - {name: backup, kind: file_age, path: /var/backups/last, max_age: 86400}
push: {url: 'http://127.0.0.1:9091', job: node, interval: 5}
"""


def test_a_full_config_loads(tmp_path: Path) -> None:
    path = tmp_path / "agent.yml"
    path.write_text(GOOD)
    config = load_config(path)
    assert config.listen == "127.0.0.1:9109"
    assert "pressure" not in config.collectors
    assert "cpu" in config.collectors
    assert config.netdev_device_exclude.search("veth12")
    assert [g.name for g in config.processes] == ["init", "py"]
    assert [c.name for c in config.checks] == ["site", "ssh", "cert", "ok", "backup"]
    kinds = [getattr(c, "kind", "") for c in config.checks]
    assert kinds == ["http", "tcp", "tls", "command", "file_age"]
    assert config.push is not None
    assert config.push.job == "node"
    assert config.push.interval == 5


def test_an_empty_file_is_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "agent.yml"
    path.write_text("")
    assert load_config(path) == AgentConfig()


BAD = [
    ("listen: [1, 2]\n", 1, "'listen' must be a single value"),
    ("listen: nowhere\n", 1, "HOST:PORT"),
    ("colectors: {}\n", 1, "unknown key 'colectors'"),
    ("collectors:\n  disable: [cpu, gpu]\n", 2, "unknown collector 'gpu'"),
    ("collectors:\n  enable: [cpu]\n  disable: [stat]\n", 3, "not both"),
    ("filesystem:\n  mount_points_exclude: '(('\n", 2, "not a valid regular expression"),
    ("processes:\n  - {name: a}\n", 2, "exactly one of 'exe', 'cmdline' or 'pidfile'"),
    ("checks:\n  - name: a\n    kind: ping\n", 3, "unknown check kind 'ping'"),
    ("checks:\n  - name: a\n    kind: http\n", 2, "'url' is required"),
    ("checks:\n  - name: a\n    kind: http\n    url: ftp://x\n", 4, "must start with http"),
    ("checks:\n  - name: a\n    kind: http\n    url: http://x\n    timeout: soon\n", 5, "number"),
    ("checks:\n  - name: a\n    kind: tcp\n    address: host\n", 4, "HOST:PORT"),
    ("checks:\n  - name: a\n    kind: tcp\n    address: 'h:1'\n    tmeout: 3\n", 5, "unknown key"),
    (
        "checks:\n  - {name: a, kind: tcp, address: 'h:1'}\n"
        "  - {name: a, kind: tcp, address: 'h:2'}\n",
        3,
        "already defined",
    ),
    ("checks:\n  - name: a\n    kind: command\n    command: 'a \"b'\n", 4, "closing quotation"),
    ("push: {job: x}\n", 1, "'url' is required"),
    ("push:\n  url: http://x\n  interval: -1\n", 3, "at least"),
    ("listen: [\n", 2, "invalid YAML"),
    ("- a\n- b\n", 1, "must be a mapping"),
    ("listen: a:1\nlisten: b:2\n", 2, "duplicate key"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD)
def test_bad_config_names_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "agent.yml"
    path.write_text(text)
    with pytest.raises(ObserveConfigError) as info:
        load_config(path)
    assert info.value.line == line, str(info.value)
    assert message in str(info.value)
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_cli_reports_config_errors_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "agent.yml"
    path.write_text("collectors:\n  disable: [gpu]\n")
    done = subprocess.run(
        opsforge_argv("agent", "serve", "--config", str(path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"{path}:2: " in done.stderr
    assert "Traceback" not in done.stderr
    missing = subprocess.run(
        opsforge_argv("agent", "scrape", "--config", str(tmp_path / "nope.yml")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2
    assert "no such file" in missing.stderr
