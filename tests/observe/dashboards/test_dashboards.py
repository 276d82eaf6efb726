"""Generated Grafana dashboards: well-formed models and provisioning files, and every
query runs on a real Prometheus scraping the real agent (the host dashboard's panels all
get data)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from observe.servers import (
    ServerProcess,
    free_port,
    http_get,
    opsforge_argv,
    prometheus_query,
    start_prometheus,
)
from opsforge.observe.dashboards import all_dashboards

TEXTFILE = """\
# TYPE opsforge_log_template_lines_total counter
opsforge_log_template_lines_total{template_id="1",template="sshd accepted <*>"} 42
opsforge_run_exit_code{command="apply"} 0
opsforge_run_duration_seconds{command="apply"} 3.5
opsforge_run_finished_timestamp_seconds{command="apply"} 1.7e9
opsforge_run_hosts{command="apply",status="changed"} 2
opsforge_run_host_operations{command="apply",host="web1",status="changed"} 3
opsforge_run_host_duration_seconds{command="apply",host="web1"} 1.2
"""


def _exprs(model: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (panel["title"], target["expr"])
        for panel in model["panels"]
        for target in panel.get("targets", [])
    ]


def test_models_are_well_formed() -> None:
    uids = set()
    for dashboard in all_dashboards():
        model = dashboard.to_json()
        assert model["uid"] not in uids
        uids.add(model["uid"])
        ids = [p["id"] for p in model["panels"]]
        assert len(ids) == len(set(ids))
        cells: set[tuple[int, int]] = set()
        for panel in model["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] >= 0
            assert pos["x"] + pos["w"] <= 24
            for x in range(pos["x"], pos["x"] + pos["w"]):
                for y in range(pos["y"], pos["y"] + pos["h"]):
                    assert (x, y) not in cells, (model["uid"], panel["title"])
                    cells.add((x, y))
            if panel["type"] != "row":
                assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
                assert panel["targets"]
        names = [v["name"] for v in model["templating"]["list"]]
        assert names[0] == "datasource"
        used = {m for _, e in _exprs(model) for m in re.findall(r"\$(\w+)", e)}
        assert used - {"__rate_interval"} <= set(names), model["uid"]
    assert uids == {"opsforge-agent", "opsforge-logs", "opsforge-runs"}


def test_generate_writes_dashboards_and_provisioning(tmp_path: Path) -> None:
    out = tmp_path / "grafana"
    done = subprocess.run(
        opsforge_argv("dashboards", "generate", "-o", str(out), "--prometheus-url",
                      "http://prom:9090"),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 5
    source = yaml.safe_load((out / "provisioning/datasources/opsforge.yml").read_text())
    assert source["datasources"][0]["url"] == "http://prom:9090"
    assert source["datasources"][0]["type"] == "prometheus"
    provider = yaml.safe_load((out / "provisioning/dashboards/opsforge.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == str((out / "dashboards").resolve())
    for name in ("opsforge-agent", "opsforge-logs", "opsforge-runs"):
        model = json.loads((out / "dashboards" / f"{name}.json").read_text())
        assert model["uid"] == name
    bad = subprocess.run(
        opsforge_argv("dashboards", "generate", "-o", str(out), "--prometheus-url", "prom:9090"),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The agent (a check, a process group, a textfile with log and run metrics) scraped
    by Prometheus; yields (Prometheus URL, instance)."""
    tmp = tmp_path_factory.mktemp("dash")
    (tmp / "prom").mkdir()
    (tmp / "prom" / "opsforge.prom").write_text(TEXTFILE)
    (tmp / "agent.yml").write_text(
        f"textfile: {{directory: '{tmp / 'prom'}'}}\n"
        f"processes: [{{name: python, exe: {Path(sys.executable).resolve().name}}}]\n"
        f"checks: [{{name: self, kind: tcp, address: '127.0.0.1:{free_port()}', timeout: 1}}]\n"
    )
    port = free_port()
    agent = ServerProcess(
        opsforge_argv(
            "agent", "serve", "--listen", f"127.0.0.1:{port}", "-c", str(tmp / "agent.yml")
        ),
        tmp / "agent.log",
        f"http://127.0.0.1:{port}/metrics",
    ).wait_ready()
    prometheus, base = start_prometheus(
        tmp / "p",
        "global: {scrape_interval: 1s}\n"
        "scrape_configs: [{job_name: node, static_configs:"
        f" [{{targets: ['127.0.0.1:{port}']}}]}}]\n",
    )
    try:
        prometheus_query(base, "up == 1")
        prometheus_query(base, "count_over_time(up[10s]) >= 5")  # enough for rate()
        yield base, f"127.0.0.1:{port}"
    finally:
        prometheus.stop()
        agent.stop()


def _substitute(expr: str, instance: str) -> str:
    return (
        expr.replace("$__rate_interval", "4s")
        .replace("$job", "node")
        .replace("$instance", instance)
        .replace("$command", ".*")
    )


def test_every_query_runs_and_host_panels_have_data(scraped: tuple[str, str]) -> None:
    base, instance = scraped
    empty = []
    for dashboard in all_dashboards():
        model = dashboard.to_json()
        for title, expr in _exprs(model):
            query = _substitute(expr, instance)
            url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": query})
            with http_get(url) as response:
                data = json.load(response)
            assert data["status"] == "success", (title, query, data)
            if not data["data"]["result"]:
                empty.append((model["uid"], title))
    # the host's TLS panel has no TLS check configured; everything else has data
    assert empty == [("opsforge-agent", "TLS certificate days left")], empty
    for variable in ("node_uname_info", 'opsforge_run_exit_code{command=~".*"}'):
        assert prometheus_query(base, variable)
