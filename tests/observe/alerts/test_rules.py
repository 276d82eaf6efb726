"""The generated alerting rules: valid for promtool, and they fire (and only then) on the
series they are meant for — checked with ``promtool test rules`` (Prometheus's own rule
evaluator over synthetic series)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from observe.servers import need_binary, opsforge_argv
from opsforge.observe.alerts.rules import RuleSettings, alerting_rules, format_duration, rules_yaml

ALERTS = {
    "HostDown", "HostDiskWillFillSoon", "HostDiskAlmostFull", "HostMemoryPressure",
    "HostHighLoad", "HostClockSkew", "HostUnitRestartingTooOften", "HostUnitFailed",
    "AgentCollectorFailing", "EndpointCheckFailing", "CertificateExpiringSoon",
    "CertificateExpired",
}  # fmt: skip


@pytest.fixture(scope="module")
def promtool() -> str:
    return need_binary("promtool")


@pytest.mark.parametrize(
    "settings", [RuleSettings(), RuleSettings(job="node|agent", for_scale=0, cert_days=30)]
)
def test_promtool_check_rules(tmp_path: Path, promtool: str, settings: RuleSettings) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(rules_yaml(settings))
    done = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in done.stdout


def test_every_rule_has_for_and_severity() -> None:
    rules = [r for g in alerting_rules()["groups"] for r in g["rules"]]
    assert {r["alert"] for r in rules} == ALERTS
    for rule in rules:
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert "for" in rule
        assert rule["annotations"]["summary"]
    by_name = {r["alert"]: r for r in rules}
    assert "predict_linear(" in by_name["HostDiskWillFillSoon"]["expr"]
    assert by_name["HostDown"]["for"] == "2m"


def test_format_duration() -> None:
    assert [format_duration(x) for x in (0, 59, 60, 90, 3600, 5400)] == [
        "0s", "59s", "1m", "1m30s", "1h", "1h30m",
    ]  # fmt: skip


def _case(series: dict[str, str], at: str, alert: str, labels: list[dict[str, str]]) -> Any:
    return {
        "interval": "1m",
        "input_series": [{"series": k, "values": v} for k, v in series.items()],
        "alert_rule_test": [
            {"eval_time": at, "alertname": alert, "exp_alerts": [{"exp_labels": x} for x in labels]}
        ],
    }


NODE = 'instance="web1:9101",job="node"'
ROOT = f'{NODE},device="/dev/vda",fstype="ext4",mountpoint="/"'
CASES = [
    # host down after 2 minutes of failed scrapes, not before
    _case({f"up{{{NODE}}}": "1 1 0 0 0 0 0 0"}, "3m", "HostDown", []),
    _case(
        {f"up{{{NODE}}}": "1 1 0 0 0 0 0 0"},
        "6m",
        "HostDown",
        [{"severity": "critical", "instance": "web1:9101", "job": "node"}],
    ),
    _case(
        {
            f"node_filesystem_avail_bytes{{{ROOT}}}": "5x20",
            f"node_filesystem_size_bytes{{{ROOT}}}": "100x20",
            f"node_filesystem_readonly{{{ROOT}}}": "0x20",
        },
        "15m",
        "HostDiskAlmostFull",
        [{"severity": "critical", "instance": "web1:9101", "job": "node", "device": "/dev/vda",
          "fstype": "ext4", "mountpoint": "/"}],
    ),
    # a read-only filesystem that is full is not an alert
    _case(
        {
            f"node_filesystem_avail_bytes{{{ROOT}}}": "5x20",
            f"node_filesystem_size_bytes{{{ROOT}}}": "100x20",
            f"node_filesystem_readonly{{{ROOT}}}": "1x20",
        },
        "15m",
        "HostDiskAlmostFull",
        [],
    ),
    _case(
        {
            f"node_filesystem_avail_bytes{{{ROOT}}}": "39-0.1x200",
            f"node_filesystem_size_bytes{{{ROOT}}}": "100x200",
            f"node_filesystem_readonly{{{ROOT}}}": "0x200",
        },
        "150m",
        "HostDiskWillFillSoon",
        [{"severity": "warning", "instance": "web1:9101", "job": "node", "device": "/dev/vda",
          "fstype": "ext4", "mountpoint": "/"}],
    ),
    # steady usage, no prediction of running out
    _case(
        {
            f"node_filesystem_avail_bytes{{{ROOT}}}": "30x200",
            f"node_filesystem_size_bytes{{{ROOT}}}": "100x200",
            f"node_filesystem_readonly{{{ROOT}}}": "0x200",
        },
        "150m",
        "HostDiskWillFillSoon",
        [],
    ),
    _case(
        {
            f"node_memory_MemAvailable_bytes{{{NODE}}}": "5x20",
            f"node_memory_MemTotal_bytes{{{NODE}}}": "100x20",
        },
        "10m",
        "HostMemoryPressure",
        [{"severity": "warning", "instance": "web1:9101", "job": "node"}],
    ),
    _case(
        {
            f"node_load5{{{NODE}}}": "9x30",
            f'node_cpu_seconds_total{{{NODE},cpu="0",mode="idle"}}': "0+60x30",
            f'node_cpu_seconds_total{{{NODE},cpu="1",mode="idle"}}': "0+60x30",
        },
        "20m",
        "HostHighLoad",
        [{"severity": "warning", "instance": "web1:9101", "job": "node"}],
    ),
    # node_time_seconds stuck at 0 while Prometheus's clock runs: skew
    _case(
        {f"node_time_seconds{{{NODE}}}": "0x30"},
        "20m",
        "HostClockSkew",
        [{"severity": "warning", "instance": "web1:9101", "job": "node"}],
    ),
    _case(
        {f'node_systemd_service_restart_total{{{NODE},name="app.service"}}': "0+1x60"},
        "30m",
        "HostUnitRestartingTooOften",
        [{"severity": "warning", "instance": "web1:9101", "job": "node", "name": "app.service"}],
    ),
    _case(
        {f'opsforge_check_up{{{NODE},check="site",kind="http"}}': "0x10"},
        "10m",
        "EndpointCheckFailing",
        [{"severity": "critical", "instance": "web1:9101", "job": "node", "check": "site",
          "kind": "http"}],
    ),
    _case(
        {f'opsforge_check_tls_cert_not_after_seconds{{{NODE},check="cert"}}': "432000x200"},
        "2h",
        "CertificateExpiringSoon",
        [{"severity": "warning", "instance": "web1:9101", "job": "node", "check": "cert"}],
    ),
    _case(
        {f'opsforge_check_tls_cert_not_after_seconds{{{NODE},check="cert"}}': "432000x200"},
        "2h",
        "CertificateExpired",
        [],
    ),
]  # fmt: skip


def test_rules_fire_on_the_series_they_are_for(tmp_path: Path, promtool: str) -> None:
    rules = alerting_rules()
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations")  # compared by promtool otherwise; checked above
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    (tmp_path / "tests.yml").write_text(
        yaml.safe_dump({"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": CASES})
    )
    done = subprocess.run(
        [promtool, "test", "rules", "tests.yml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_cli_writes_the_rules(tmp_path: Path, promtool: str) -> None:
    out = tmp_path / "opsforge.rules.yml"
    done = subprocess.run(
        opsforge_argv(
            "alerts", "rules", "-o", str(out), "--job", "node", "--disk-free-percent", "15"
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert 'job=~"node"' in text
    assert "* 100 < 15)" in text
    check = subprocess.run([promtool, "check", "rules", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    bad = subprocess.run(
        opsforge_argv("alerts", "rules", "--job", "("), capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2
    assert "--job" in bad.stderr
