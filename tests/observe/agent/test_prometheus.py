"""A real Prometheus (Debian package) scrapes the real agent; the queries Grafana's "Node
Exporter Full" (1860) dashboard runs get values. A real Pushgateway receives push mode."""

from __future__ import annotations

import subprocess
import urllib.request
from collections.abc import Iterator

import pytest

from observe.servers import (
    free_port,
    http_get,
    opsforge_argv,
    prometheus_query,
    start_prometheus,
)

JOB = "node"


@pytest.fixture(scope="module")
def prometheus(agent_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    target = agent_url.split("//", 1)[1].split("/", 1)[0]
    server, base = start_prometheus(
        tmp_path_factory.mktemp("prometheus"),
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: {JOB}\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n",
    )
    yield base
    server.stop()


def test_prometheus_scrapes_the_agent_and_sees_node_uname_info(
    prometheus: str, agent_url: str
) -> None:
    result = prometheus_query(prometheus, f'up{{job="{JOB}"}} == 1')
    instance = result[0]["metric"]["instance"]
    assert agent_url.startswith(f"http://{instance}/")
    # the 1860 dashboard's variables: label_values(node_uname_info{job="$job"}, instance)
    uname = prometheus_query(prometheus, f'node_uname_info{{job="{JOB}"}}')
    assert uname[0]["metric"]["instance"] == instance
    assert uname[0]["metric"]["sysname"] == "Linux"


def test_the_1860_cpu_busy_and_ram_used_expressions_get_values(prometheus: str) -> None:
    instance = prometheus_query(prometheus, f'up{{job="{JOB}"}}')[0]["metric"]["instance"]
    sel = f'instance="{instance}",job="{JOB}"'
    rate_interval = "4s"  # what Grafana's $__rate_interval is for a 1s scrape interval
    cpu_busy_expressions = [
        # "CPU Busy", the dashboard's revisions before and after 2023
        f'(sum by(instance) (irate(node_cpu_seconds_total{{{sel}, mode!="idle"}}[{rate_interval}]))'
        f" / on(instance) group_left sum by (instance)"
        f"((irate(node_cpu_seconds_total{{{sel}}}[{rate_interval}])))) * 100",
        f'100 * (1 - avg(rate(node_cpu_seconds_total{{mode="idle", {sel}}}[{rate_interval}])))',
    ]
    for expr in cpu_busy_expressions:
        value = float(prometheus_query(prometheus, expr)[0]["value"][1])
        assert 0 <= value <= 100, expr
    ram_used = (
        f"(1 - (node_memory_MemAvailable_bytes{{{sel}}} / node_memory_MemTotal_bytes{{{sel}}}))"
        " * 100"
    )
    value = float(prometheus_query(prometheus, ram_used)[0]["value"][1])
    assert 0 < value < 100
    # "Root FS Used" and "SYS Load" panels too
    root_fs = (
        f'100 - ((node_filesystem_avail_bytes{{{sel},mountpoint="/",fstype!="rootfs"}} * 100)'
        f' / node_filesystem_size_bytes{{{sel},mountpoint="/",fstype!="rootfs"}})'
    )
    assert 0 < float(prometheus_query(prometheus, root_fs)[0]["value"][1]) < 100
    load = (
        f"scalar(node_load1{{{sel}}}) * 100"
        f" / count(count(node_cpu_seconds_total{{{sel}}}) by (cpu))"
    )
    assert float(prometheus_query(prometheus, load)[0]["value"][1]) >= 0


def test_push_once_to_a_real_pushgateway(pushgateway: str) -> None:
    done = subprocess.run(
        opsforge_argv(
            "agent", "push", "--gateway", pushgateway, "--job", "nodes", "--instance", "web/1",
            "--once",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with http_get(f"{pushgateway}/metrics") as response:
        text = response.read().decode()
    line = next(x for x in text.splitlines() if x.startswith("node_uname_info{"))
    assert 'job="nodes"' in line
    assert 'instance="web/1"' in line
    assert "push_time_seconds{" in text


def test_push_to_a_gateway_that_is_down_is_exit_3() -> None:
    port = free_port()
    done = subprocess.run(
        opsforge_argv("agent", "push", "--gateway", f"http://127.0.0.1:{port}", "--once"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    assert "push to http://127.0.0.1:" in done.stderr
    assert "Traceback" not in done.stderr


def test_push_rejected_by_the_gateway_names_the_reason(pushgateway: str) -> None:
    # a metric the gateway refuses: same name, other type than what another group pushed
    request = urllib.request.Request(
        f"{pushgateway}/metrics/job/other",
        data=b"# TYPE node_load1 counter\nnode_load1 1\n",
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=10):
        pass
    done = subprocess.run(
        opsforge_argv("agent", "push", "--gateway", pushgateway, "--once"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3, done.stderr
    assert "HTTP 400" in done.stderr
