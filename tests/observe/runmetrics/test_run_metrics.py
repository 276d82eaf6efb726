"""Every run can report its own metrics: a real deploy on lab hosts pushes them to a real
Pushgateway and writes them where the agent's textfile collector serves them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from observe.servers import free_port, http_get, opsforge_argv
from opsforge.observe.agent import Agent, AgentConfig, render
from opsforge.testing import LabInfo

DEPLOY = """
from opsforge.deploy import files, server


def deploy(host):
    base = f"{host.vars['target_root']}/{host.name}"
    files.directory(host, base, mode="0755")
    files.line(host, f"{base}/settings.ini", "a = 1", regexp="^a = ")
    server.shell(host, "true", changed=False)
"""


def _samples(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "instance"))
            found.setdefault(sample.name, {})[labels] = sample.value
    return found


def test_a_deploy_pushes_and_exposes_its_metrics(
    tmp_path: Path, lab: LabInfo, pushgateway: str
) -> None:
    (tmp_path / "deploy.py").write_text(DEPLOY)
    target = tmp_path / "target"
    target.mkdir()
    textfile = tmp_path / "textfile"
    textfile.mkdir()
    env = dict(
        os.environ,
        OPSFORGE_STATE_DIR=str(tmp_path / "state"),
        OPSFORGE_METRICS_PUSH=pushgateway,
        OPSFORGE_METRICS_TEXTFILE=str(textfile),
    )
    data = yaml.safe_load(lab.inventory.read_text())
    data["all"]["vars"]["target_root"] = str(target)
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump(data))
    argv = opsforge_argv("apply", str(tmp_path / "deploy.py"), "lab1:lab2", "-i", str(inventory))
    first = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0, first.stderr

    with http_get(f"{pushgateway}/metrics") as response:
        pushed = _samples(response.read().decode())
    job = ("job", "opsforge_run")
    assert pushed["opsforge_run_exit_code"] == {(("command", "apply"), job): 0}
    assert pushed["opsforge_run_hosts"][(("command", "apply"), job, ("status", "changed"))] == 2
    ops = pushed["opsforge_run_host_operations"]
    assert ops[(("command", "apply"), ("host", "lab1"), job, ("status", "changed"))] == 2
    assert ops[(("command", "apply"), ("host", "lab1"), job, ("status", "ok"))] == 1
    assert pushed["opsforge_run_duration_seconds"][(("command", "apply"), job)] > 0

    # the second run changes nothing: the gauges say so
    second = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert second.returncode == 0, second.stderr
    config = AgentConfig(collectors=frozenset({"textfile"}), textfile_directory=textfile)
    exposed = render(Agent(config).collect())
    served = _samples(exposed.decode())
    assert served["node_textfile_scrape_error"] == {(): 0}
    ops = served["opsforge_run_host_operations"]
    assert ops[(("command", "apply"), ("host", "lab2"), ("status", "ok"))] == 3
    assert (("command", "apply"), ("host", "lab2"), ("status", "changed")) not in ops
    hosts = served["opsforge_run_hosts"]
    assert {k: v for k, v in hosts.items() if v} == {(("command", "apply"), ("status", "ok")): 2}
    assert hosts[(("command", "apply"), ("status", "changed"))] == 0  # every status, zeros too


def test_a_metrics_failure_never_fails_the_run(tmp_path: Path, lab: LabInfo) -> None:
    env = dict(
        os.environ,
        OPSFORGE_STATE_DIR=str(tmp_path / "state"),
        OPSFORGE_METRICS_PUSH=f"http://127.0.0.1:{free_port()}",
        OPSFORGE_METRICS_TEXTFILE=str(tmp_path / "missing-dir"),
    )
    done = subprocess.run(
        opsforge_argv("exec", "lab1", "-i", str(lab.inventory), "--", "true"),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0
    assert "warning: push to http://127.0.0.1:" in done.stderr
    assert "cannot write run metrics to" in done.stderr


def test_a_pipeline_run_exposes_its_metrics(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".gitlab-ci.yml").write_text(
        "ok:\n  script: [echo fine]\nbad:\n  script: [exit 3]\n"
    )
    textfile = tmp_path / "textfile"
    textfile.mkdir()
    env = dict(os.environ, OPSFORGE_STATE_DIR=str(tmp_path / "state"),
               OPSFORGE_METRICS_TEXTFILE=str(textfile))  # fmt: skip
    done = subprocess.run(
        opsforge_argv("pipeline", "run", "--in-place"),
        cwd=project, capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    text = (textfile / "opsforge_run_pipeline.prom").read_text()
    assert 'opsforge_run_exit_code{command="pipeline"} 1' in text
    assert 'opsforge_run_duration_seconds{command="pipeline"}' in text
