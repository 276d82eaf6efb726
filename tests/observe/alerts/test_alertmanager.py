"""End to end with real parts: the agent (a failing check) → Prometheus (the generated rules)
→ Alertmanager → ``opsforge alerts receive`` → an action on the lab host named by the alert."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from observe.servers import (
    ServerProcess,
    free_port,
    need_binary,
    opsforge_argv,
    start_prometheus,
)
from opsforge.testing import LabInfo


def _wait_for(path: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.3)
    raise AssertionError(f"{path} not written within {timeout}s")


def test_a_firing_rule_reaches_the_receiver_and_its_action_runs(
    tmp_path: Path, lab: LabInfo
) -> None:
    alertmanager_bin = need_binary("prometheus-alertmanager")
    servers: list[ServerProcess] = []
    marker = tmp_path / "remediated"
    try:
        # the receiver, with an action for the check failing on lab2
        receiver_port = free_port()
        (tmp_path / "receiver.yml").write_text(
            f"inventory: {lab.inventory}\n"
            "host_label: host\n"
            "actions:\n"
            "  - name: restart-site\n"
            "    match: {alertname: EndpointCheckFailing, check: site}\n"
            f"    exec: 'echo \"$ALERT_NAME $ALERT_LABEL_CHECK $ALERT_LABEL_HOST\" >> {marker}'\n"
        )
        servers.append(
            ServerProcess(
                opsforge_argv(
                    "alerts",
                    "receive",
                    "--listen",
                    f"127.0.0.1:{receiver_port}",
                    "--config",
                    str(tmp_path / "receiver.yml"),
                ),
                tmp_path / "receiver.log",
                f"http://127.0.0.1:{receiver_port}/-/healthy",
                {"OPSFORGE_STATE_DIR": str(tmp_path / "state")},
            ).wait_ready()
        )
        # the agent, with a check that fails (nothing listens on that port)
        agent_port, closed = free_port(), free_port()
        (tmp_path / "agent.yml").write_text(
            "collectors: {enable: [checks, uname]}\n"
            "checks:\n"
            f"  - {{name: site, kind: tcp, address: '127.0.0.1:{closed}', timeout: 1}}\n"
        )
        servers.append(
            ServerProcess(
                opsforge_argv(
                    "agent",
                    "serve",
                    "--listen",
                    f"127.0.0.1:{agent_port}",
                    "--config",
                    str(tmp_path / "agent.yml"),
                ),
                tmp_path / "agent.log",
                f"http://127.0.0.1:{agent_port}/-/healthy",
            ).wait_ready()
        )
        # Alertmanager → the receiver's webhook
        am_port = free_port()
        (tmp_path / "alertmanager.yml").write_text(
            "route: {receiver: opsforge, group_by: [alertname], group_wait: 1s,"
            " group_interval: 1s, repeat_interval: 1h}\n"
            "receivers:\n"
            "  - name: opsforge\n"
            f"    webhook_configs: [{{url: 'http://127.0.0.1:{receiver_port}/alerts'}}]\n"
        )
        servers.append(
            ServerProcess(
                [
                    alertmanager_bin,
                    f"--config.file={tmp_path / 'alertmanager.yml'}",
                    f"--storage.path={tmp_path / 'am-data'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",
                ],
                tmp_path / "alertmanager.log",
                f"http://127.0.0.1:{am_port}/-/ready",
            ).wait_ready(60)
        )
        # Prometheus with the generated rules (for: scaled to 0 so the test need not wait)
        rules = subprocess.run(
            [*opsforge_argv("alerts", "rules", "--for-scale", "0", "--job", "node")],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        (tmp_path / "rules.yml").write_text(rules)
        prometheus, _ = start_prometheus(
            tmp_path,
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "rule_files: [rules.yml]\n"
            "alerting:\n"
            f"  alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{am_port}']}}]}}]\n"
            "scrape_configs:\n"
            "  - job_name: node\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{agent_port}'],"
            " labels: {host: lab2}}]\n",
        )
        servers.append(prometheus)
        text = _wait_for(marker, timeout=90)
        assert text.splitlines()[0] == "EndpointCheckFailing site lab2"
    finally:
        for server in reversed(servers):
            server.stop()
    log = (tmp_path / "receiver.log").read_text()
    assert "alert EndpointCheckFailing firing on lab2" in log
    runs = subprocess.run(
        opsforge_argv("runs", "list", "--json"),
        capture_output=True,
        text=True,
        env={"OPSFORGE_STATE_DIR": str(tmp_path / "state"), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    commands = sorted({json.loads(line)["command"] for line in runs.stdout.splitlines()})
    assert commands == ["alert", "exec"]
