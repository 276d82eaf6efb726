"""The ssh executor against a real Debian 12 host with its own filesystem and address.

The sshd lab shares this machine's filesystem, so a job there could read a local path
by mistake and still pass; a Debian test host cannot: whatever it sees was shipped.
"""

from __future__ import annotations

import pytest

from opsforge.pipelines.runstate import RunSettings
from opsforge.testing import DebianHostsInfo

from .conftest import ProjectFactory
from .test_ssh_files import log_of, run_native

pytestmark = [pytest.mark.root, pytest.mark.slow]

ACROSS = r"""
stages: [build, remote, check]
build:
  stage: build
  script: [mkdir -p out, echo from-build > out/in.txt, chmod 604 out/in.txt]
  artifacts: {paths: [out/]}
remote:
  stage: remote
  host: deb1
  script:
    - test -f /etc/debian_version
    - test ! -e "$PROJECT_HERE"
    - test "$(cat src/lib.txt)" = library
    - test "$(cat out/in.txt)" = from-build
    - test "$(stat -c %a out/in.txt)" = 604
    - mkdir -p dist && cat /etc/debian_version > dist/version
    - chmod 640 dist/version
  artifacts: {paths: [dist/]}
check:
  stage: check
  script:
    - grep -q '^12\.' dist/version
    - test "$(stat -c %a dist/version)" = 640
"""


def test_a_job_on_another_machine_gets_its_files_and_hands_on_its_artifacts(
    project: ProjectFactory, debian_hosts: DebianHostsInfo
) -> None:
    root = project(files={"opsforge-pipeline.yml": ACROSS, "src/lib.txt": "library"})
    settings = RunSettings(
        inventory=str(debian_hosts.inventory), variables={"PROJECT_HERE": str(root)}
    )
    result = run_native(root, settings)
    statuses = {name: rec.status.value for name, rec in result.records.items()}
    expected = dict.fromkeys(("build", "remote", "check"), "success")
    assert statuses == expected, log_of(result, "remote")
    left = debian_hosts.run_on_host("deb1", "ls -a /tmp", check=True).stdout.split()
    assert not [name for name in left if name.startswith("opsforge-")]
