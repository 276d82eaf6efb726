"""Anomaly reports on generated logs with anomalies injected at known minutes."""

from __future__ import annotations

import json
from pathlib import Path

from opsforge.observe.logs.analysis import LogAnalyzer
from opsforge.observe.logs.anomalies import Anomaly, AnomalyConfig, AnomalyDetector, parse_time
from opsforge.observe.logs.miner import TemplateMiner
from opsforge.observe.logs.parsing import choose_parser, parse_lines

from .conftest import CliRunner
from .loggen import INJECTED, START, generate


def _minute(anomaly: Anomaly) -> int:
    start = parse_time(anomaly.window_start)
    assert start is not None
    return int((start - START.timestamp()) // 60)


def _analyze(lines: list[str]) -> list[Anomaly]:
    analyzer = LogAnalyzer(TemplateMiner(), AnomalyConfig(window=60))
    found: list[Anomaly] = []
    for record in parse_lines(lines, choose_parser("auto", lines[:50]), original=True):
        found.extend(analyzer.feed(record))
    found.extend(analyzer.flush())
    return found


def _default_sigint() -> None:
    """Ctrl-C as in a terminal, even when the test run itself was started in the
    background (a non-interactive shell starts background jobs with SIGINT ignored)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_every_injected_anomaly_is_found_in_its_window_and_nothing_else() -> None:
    found = _analyze(generate())
    by_minute: dict[int, set[str]] = {}
    for anomaly in found:
        by_minute.setdefault(_minute(anomaly), set()).add(anomaly.kind)
    for minute, kind in INJECTED.items():
        assert kind in by_minute.get(minute, set()), (minute, kind, by_minute)
    assert set(by_minute) == set(INJECTED), by_minute


def test_reports_carry_numbers_and_evidence() -> None:
    found = {(_minute(a), a.kind): a for a in _analyze(generate())}
    spike = found[(100, "rate_spike")]
    assert spike.subject == "cache miss for key item:<*>"
    assert spike.observed >= 3 * spike.baseline
    assert spike.evidence
    assert all('"cache miss for key item:' in line for line in spike.evidence)
    new = found[(120, "new_template")]
    assert new.subject == "disk <*> failed self-test code <*>"
    assert new.observed == 8
    errors = found[(140, "error_ratio")]
    assert errors.observed > errors.baseline + 0.2
    assert all('"level": "error"' in line for line in errors.evidence)
    burst = found[(160, "host_burst")]
    assert burst.subject == "web3"
    assert all('"host": "web3"' in line for line in burst.evidence)


def test_quiet_windows_lower_the_baseline_and_merged_ids_resolve() -> None:
    detector = AnomalyDetector(
        AnomalyConfig(window=10, warmup=3), resolve=lambda i: 1 if i == 2 else i
    )
    for second in range(0, 100):
        detector.observe(float(second), 1, "a <*>", f"a {second}")
    found = detector.observe(400.0, 2, "a <*>", "a late")  # id 2 merged into 1: not new
    found += detector.flush()
    assert [a.kind for a in found] == []
    assert detector.templates[1].mean < 1.0  # the 29 quiet windows were learned


def test_cli_anomalies_json_and_metrics(tmp_path: Path, logs_cli: CliRunner) -> None:
    log = tmp_path / "app.jsonl"
    log.write_text("\n".join(generate()) + "\n")
    metrics = tmp_path / "logs.prom"
    proc = logs_cli("anomalies", str(log), "--json", "--metrics", str(metrics), "--no-db")
    assert proc.returncode == 0, proc.stderr
    reports = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = {(r["kind"], r["window_start"][11:16]) for r in reports}
    assert ("rate_spike", "09:40") in kinds
    assert ("host_burst", "10:40") in kinds
    text = metrics.read_text()
    assert "# TYPE opsforge_log_template_lines_total counter" in text
    assert 'template="GET <*> served in <*>"' in text
    proc = logs_cli("anomalies", str(log))
    assert proc.returncode == 0, proc.stderr
    assert "rate_spike" in proc.stdout
    assert "evidence" in proc.stdout


def test_cli_follow_reports_live_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    log = tmp_path / "live.log"
    log.write_text("")
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(tmp_path / "state"), NO_COLOR="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsforge", "logs", "anomalies", str(log), "--follow",
         "--json", "--window", "1", "--no-db", "--metrics", str(tmp_path / "m.prom")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        preexec_fn=_default_sigint,
    )  # fmt: skip
    metrics = tmp_path / "m.prom"
    try:
        deadline = time.monotonic() + 60
        while not metrics.exists() and time.monotonic() < deadline:
            time.sleep(0.1)  # the follow loop writes the metrics file on its first poll
        with log.open("a") as out:
            for i in range(70):
                out.write(f"2024-01-01 00:00:00,000 INFO app: steady tick {i}\n")
                out.flush()
                time.sleep(0.1)
            out.write("2024-01-01 00:00:00,000 ERROR app: disk sdb failed self-test\n" * 3)
            out.flush()
            time.sleep(3)
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    reports = [json.loads(line) for line in stdout.splitlines()]
    assert any(
        r["kind"] == "new_template" and r["subject"] == "disk sdb failed self-test" for r in reports
    ), reports
    assert "opsforge_log_template_lines_total" in (tmp_path / "m.prom").read_text()
