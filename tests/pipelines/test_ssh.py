"""The ssh executor: a native job runs on an inventory host of the local sshd lab."""

from __future__ import annotations

import asyncio

from opsforge.pipelines.formats import LoadOptions, load_pipeline
from opsforge.pipelines.planner import plan_pipeline
from opsforge.pipelines.run import run_pipeline
from opsforge.pipelines.runstate import RunSettings
from opsforge.testing import LabInfo

from .conftest import ProjectFactory


def test_job_runs_on_an_inventory_host(project: ProjectFactory, lab: LabInfo) -> None:
    root = project(
        files={
            "opsforge-pipeline.yml": """
                remote:
                  host: lab3
                  variables: {WHO: pipeline}
                  script:
                    - echo "on $(hostname) as $WHO in $(pwd)"
                    - exit 6
                  allow_failure: {exit_codes: [6]}
                unknown:
                  host: nosuchhost
                  script: [echo never]
                """
        }
    )
    pipeline = load_pipeline(root / "opsforge-pipeline.yml", LoadOptions(root=root))
    settings = RunSettings(inventory=str(lab.inventory))
    result = asyncio.run(run_pipeline(plan_pipeline(pipeline), settings))
    remote = result.records["remote"]
    assert remote.executor == "ssh"
    assert remote.exit_code == 6
    assert remote.allowed_failure
    assert remote.log_path is not None
    text = remote.log_path.read_text()
    assert "as pipeline in /tmp/opsforge-" in text
    unknown = result.records["unknown"]
    assert unknown.status.value == "failed"
    assert "nosuchhost" in unknown.message
