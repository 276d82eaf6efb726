"""The ssh executor ships a job's files to the host and brings its artifacts back.

Every test runs real jobs on the local sshd lab (the hosts share this machine's
filesystem, so a test can look at the remote directory and processes directly).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from opsforge.pipelines.formats import LoadOptions, load_pipeline
from opsforge.pipelines.junit import merged_reports_xml
from opsforge.pipelines.planner import plan_pipeline
from opsforge.pipelines.run import PipelineRun, run_pipeline
from opsforge.pipelines.runstate import RunSettings
from opsforge.testing import LabInfo

from .conftest import ProjectFactory
from .test_runtime import _gone

OPSFORGE = [sys.executable, "-m", "opsforge"]
_WORKDIR = re.compile(r"workdir on (\S+): (\S+)/work ")

JUNIT = """<?xml version="1.0"?>
<testsuite name="remote-suite" tests="1"><testcase classname="r" name="on-host"/></testsuite>
"""


def run_native(root: Path, settings: RunSettings) -> PipelineRun:
    pipeline = load_pipeline(root / "opsforge-pipeline.yml", LoadOptions(root=root))
    return asyncio.run(run_pipeline(plan_pipeline(pipeline), settings))


def log_of(result: PipelineRun, job: str) -> str:
    path = result.records[job].log_path
    assert path is not None
    return path.read_text()


def remote_dir(log: str) -> Path:
    found = _WORKDIR.search(log)
    assert found, log
    return Path(found.group(2))


def test_files_and_artifacts_travel_both_ways(
    project: ProjectFactory, lab: LabInfo, tmp_path: Path
) -> None:
    root = project(
        files={
            "opsforge-pipeline.yml": """
                stages: [build, remote, check]
                build:
                  stage: build
                  script:
                    - mkdir -p out && echo from-build > out/input.txt && chmod 640 out/input.txt
                  artifacts: {paths: [out/]}
                remote:
                  stage: remote
                  host: lab2
                  script:
                    - test "$(cat config/settings.ini)" = "answer=42"
                    - test "$CI_PROJECT_DIR" = "$PWD" && test "$OPSFORGE_WORKDIR" = "$PWD"
                    - test "$FROM_CLI" = given && test -z "$OPSFORGE_PROJECT_DIR"
                    - test -x tools/run.sh && tools/run.sh > dist/ran.txt
                    - test "$(cat out/input.txt)" = from-build
                    - test "$(stat -c %a out/input.txt)" = 640
                    - echo "built on $(hostname)" > dist/app.bin && chmod 751 dist/app.bin
                    - mkdir -p dist/tmp && echo scratch > dist/tmp/junk.o
                    - ln -s app.bin dist/current
                    - cp fixtures/junit.xml report.xml
                    - echo "REMOTE_VERSION=7" > build.env
                    - rm config/settings.ini
                  after_script:
                    - echo written-by-after-script > dist/after.txt
                  artifacts:
                    paths: [dist/, config/]
                    exclude: [dist/tmp/**]
                    reports: {junit: report.xml, dotenv: build.env}
                check:
                  stage: check
                  script:
                    - test "$(stat -c %a dist/app.bin)" = 751
                    - grep -q "built on" dist/app.bin
                    - test "$(readlink dist/current)" = app.bin
                    - test "$(cat dist/ran.txt)" = tool-ran
                    - test "$(cat dist/after.txt)" = written-by-after-script
                    - test ! -e dist/tmp/junk.o
                    - test "$REMOTE_VERSION" = 7
                    - echo checked
                check-on-host:
                  stage: check
                  host: lab9
                  script:
                    - test "$(stat -c %a dist/app.bin)" = 751
                    - test "$(readlink dist/current)" = app.bin
                    - test "$(cat out/input.txt)" = from-build
                    - test "$REMOTE_VERSION" = 7
                """,
            "config/settings.ini": "answer=42",
            "tools/run.sh": "#!/bin/sh\necho tool-ran\n",
            "dist/.keep": "",
            "fixtures/junit.xml": JUNIT,
        }
    )
    os.chmod(root / "tools/run.sh", 0o755)
    settings = RunSettings(inventory=str(lab.inventory), variables={"FROM_CLI": "given"})
    result = run_native(root, settings)
    statuses = {name: rec.status.value for name, rec in result.records.items()}
    remote_log = log_of(result, "remote")
    assert set(statuses.values()) == {"success"}, remote_log
    assert len(statuses) == 4
    assert result.records["remote"].executor == "ssh"
    assert "checked" in log_of(result, "check")

    artifacts = result.records["remote"].artifacts_dir
    assert artifacts is not None
    stored = sorted(str(p.relative_to(artifacts)) for p in artifacts.rglob("*") if not p.is_dir())
    # the deleted project file is not collected; the excluded dir is not either
    assert stored == [
        "dist/.keep", "dist/after.txt", "dist/app.bin", "dist/current", "dist/ran.txt"
    ]  # fmt: skip
    assert (artifacts / "dist/app.bin").stat().st_mode & 0o777 == 0o751
    assert os.readlink(artifacts / "dist/current") == "app.bin"

    merged, problems = merged_reports_xml("p", result.records.values())
    assert not problems
    assert [s.get("name") for s in merged.iter("testsuite")] == ["remote: remote-suite"]
    assert [c.get("name") for c in merged.iter("testcase")] == ["on-host"]
    assert result.records["remote"].dotenv == {"REMOTE_VERSION": "7"}

    where = remote_dir(remote_log)
    assert where.name.startswith(f"opsforge-{result.run_id}-remote.")
    assert not where.exists()
    assert (root / "config/settings.ini").read_text() == "answer=42"  # the user's files


def slow_job(project: ProjectFactory, pidfile: Path, host: str, timeout: str = "") -> Path:
    """A project whose job ``slow`` starts a background sleep on ``host`` (its pid in
    ``pidfile``) and waits for it."""
    job: dict[str, object] = {"host": host, "script": [f"sleep 300 & echo $! > {pidfile}; wait"]}
    if timeout:
        job["timeout"] = timeout
    return project(files={"opsforge-pipeline.yml": yaml.safe_dump({"slow": job})})


def test_timeout_kills_the_remote_group_and_removes_the_dir(
    project: ProjectFactory, lab: LabInfo, tmp_path: Path
) -> None:
    pidfile = tmp_path / "pid"
    root = slow_job(project, pidfile, "lab3", timeout="2")
    result = run_native(root, RunSettings(inventory=str(lab.inventory)))
    assert result.records["slow"].status.value == "timed_out"
    assert result.exit_code == 1
    assert _gone(int(pidfile.read_text()))
    assert not remote_dir(log_of(result, "slow")).exists()


def test_keep_workdirs_keeps_the_remote_dir(project: ProjectFactory, lab: LabInfo) -> None:
    root = project(
        files={
            "opsforge-pipeline.yml": "kept: {host: lab4, script: [echo hi > made.txt]}\n",
            "a.txt": "a",
        }
    )
    result = run_native(root, RunSettings(inventory=str(lab.inventory), keep_workdirs=True))
    assert result.records["kept"].status.value == "success"
    where = remote_dir(log_of(result, "kept"))
    try:
        assert (where / "work/made.txt").read_text() == "hi\n"
        assert (where / "work/a.txt").read_text() == "a"
    finally:
        subprocess.run(["rm", "-rf", "--", str(where)], check=True)


def test_unreachable_host_is_a_clear_failure(
    project: ProjectFactory, lab: LabInfo, tmp_path: Path
) -> None:
    with socket_bound() as closed_port:
        inventory = yaml.safe_load(lab.inventory.read_text())
        dead = dict(inventory["all"]["hosts"]["lab1"], ansible_port=closed_port)
        inventory["all"]["hosts"] = {"deadhost": dead}
        inventory["all"].pop("children", None)
        path = tmp_path / "inventory.yml"
        path.write_text(yaml.safe_dump(inventory))
        pipeline = "far: {host: deadhost, script: [echo never]}\n"
        root = project(files={"opsforge-pipeline.yml": pipeline})
        env = {**os.environ, "OPSFORGE_STATE_DIR": str(tmp_path / "state"), "COLUMNS": "200"}
        proc = subprocess.run(
            [*OPSFORGE, "pipeline", "run", "-i", str(path)],
            cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "deadhost" in proc.stderr
    assert "refused" in proc.stderr.lower()


class socket_bound:
    """A loopback port that is bound but not listening: a connect is refused."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return int(self.sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def test_host_side_failure_reports_the_hosts_stderr(
    project: ProjectFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job whose files cannot be unpacked on the host fails with what the host said
    (here a host reached through the local connector, whose TMPDIR is not a directory)."""
    not_a_dir = tmp_path / "tmpfile"
    not_a_dir.write_text("")
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": {"box": {"ansible_connection": "local"}}}}))
    root = project(files={"opsforge-pipeline.yml": "job: {host: box, script: [echo never]}\n"})
    monkeypatch.setenv("TMPDIR", str(not_a_dir))
    result = run_native(root, RunSettings(inventory=str(path)))
    record = result.records["job"]
    assert record.status.value == "failed"
    assert record.message.startswith("box: cannot unpack the job's files"), record.message
    assert "mkdir" in record.message
    assert "Not a directory" in record.message


def test_interrupt_kills_the_remote_job_and_removes_its_dir(
    project: ProjectFactory, lab: LabInfo, tmp_path: Path
) -> None:
    """Ctrl-C cancels the run (as the CLI's SIGINT handler does): the remote process
    group is killed and the remote directory removed before the run returns."""
    pidfile = tmp_path / "pid"
    root = slow_job(project, pidfile, "lab5")
    pipeline = load_pipeline(root / "opsforge-pipeline.yml", LoadOptions(root=root))
    settings = RunSettings(inventory=str(lab.inventory), run_dir=tmp_path / "run")

    async def interrupted() -> None:
        task = asyncio.ensure_future(run_pipeline(plan_pipeline(pipeline), settings))
        deadline = time.monotonic() + 180  # a bound on a busy machine, not a timing check
        while not (pidfile.exists() and pidfile.read_text().strip()):
            assert time.monotonic() < deadline, "the job never started"
            assert not task.done(), task.result()
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(interrupted())
    assert _gone(int(pidfile.read_text()))
    log = (tmp_path / "run/logs/slow.log").read_text()
    assert "interrupted" in log
    assert not remote_dir(log).exists()


def test_caches_travel_and_cache_dirs_live_on_the_host(
    project: ProjectFactory, lab: LabInfo, tmp_path: Path
) -> None:
    """``cache:`` is restored into the shipped files and saved from what the host left;
    ``cache_dirs`` of an ssh job are persistent directories on the host."""
    name = f"t{os.getpid()}-{time.monotonic_ns() % 10**6}"
    root = project(
        files={
            "opsforge-pipeline.yml": f"""
                deps:
                  host: lab6
                  cache: {{key: deps, paths: [vendor/]}}
                  cache_dirs: [{name}]
                  script:
                    - test -d "$OPSFORGE_CACHE_DIR_{name.upper().replace("-", "_")}"
                    - cd "$OPSFORGE_CACHE_DIR_{name.upper().replace("-", "_")}" && echo x >> runs
                    - echo "dir runs $(wc -l < runs) in $(pwd)"
                    - cd "$OPSFORGE_WORKDIR"
                    - if [ -f vendor/lib.txt ]; then echo "hit $(cat vendor/lib.txt)"; fi
                    - mkdir -p vendor && echo v1 > vendor/lib.txt
                """
        }
    )
    settings = RunSettings(inventory=str(lab.inventory))
    first = run_native(root, settings)
    log = log_of(first, "deps")
    found = re.search(r"dir runs 1 in (\S+)", log)
    assert found, log
    host_dir = Path(found.group(1))
    try:
        assert host_dir.parent.as_posix().endswith(".cache/opsforge/dirs")
        assert not re.search("^hit", log, re.M)
        assert (root / ".opsforge/cache/deps/vendor/lib.txt").read_text() == "v1\n"
        second = log_of(run_native(root, settings), "deps")
        assert re.search("^hit v1$", second, re.M), second
        assert re.search("^dir runs 2 in", second, re.M)
    finally:
        subprocess.run(["rm", "-rf", "--", str(host_dir)], check=True)


IN_PLACE = """
stages: [one, two, three]
local:
  stage: one
  script: [echo local > made-here.txt]
  artifacts: {paths: [made-here.txt]}
remote:
  stage: two
  host: lab7
  script:
    - test "$(cat made-here.txt)" = local
    - test ! -d .opsforge  # not the project dir
    - echo remote > made-there.txt
  artifacts: {paths: [made-there.txt]}
after:
  stage: three
  script: [test "$(cat made-there.txt)" = remote]
"""


def test_in_place_runs_still_ship_and_bring_artifacts_into_the_project(
    project: ProjectFactory, lab: LabInfo
) -> None:
    root = project(files={"opsforge-pipeline.yml": IN_PLACE})
    result = run_native(root, RunSettings(inventory=str(lab.inventory), in_place=True))
    statuses = {name: rec.status.value for name, rec in result.records.items()}
    assert statuses == dict.fromkeys(("local", "remote", "after"), "success"), log_of(
        result, "remote"
    )
    assert (root / "made-there.txt").read_text() == "remote\n"


def test_each_retry_gets_fresh_files_and_every_remote_dir_goes(
    project: ProjectFactory, lab: LabInfo, tmp_path: Path
) -> None:
    tries = tmp_path / "tries"
    root = project(
        files={
            "opsforge-pipeline.yml": f"""
                flaky:
                  host: lab8
                  retry: 1
                  script:
                    - test ! -e leftover && touch leftover
                    - pwd >> {tries}
                    - test "$(wc -l < {tries})" -ge 2
                """
        }
    )
    result = run_native(root, RunSettings(inventory=str(lab.inventory)))
    record = result.records["flaky"]
    assert record.status.value == "success", log_of(result, "flaky")
    assert record.attempts == 2
    dirs = [Path(line).parent for line in tries.read_text().split()]
    assert len(set(dirs)) == 2
    assert not any(d.exists() for d in dirs)


def test_artifacts_when_on_failure_come_back_from_a_failed_job(
    project: ProjectFactory, lab: LabInfo
) -> None:
    root = project(
        files={
            "opsforge-pipeline.yml": """
                broken:
                  host: lab10
                  script: [echo details > debug.log, echo out > result.txt, exit 3]
                  artifacts: {when: on_failure, paths: [debug.log]}
                also-broken:
                  host: lab10
                  script: [echo out > result.txt, exit 3]
                  artifacts: {paths: [result.txt]}
                """
        }
    )
    result = run_native(root, RunSettings(inventory=str(lab.inventory)))
    broken, also = result.records["broken"], result.records["also-broken"]
    assert broken.exit_code == also.exit_code == 3
    assert broken.artifacts_dir is not None
    assert (broken.artifacts_dir / "debug.log").read_text() == "details\n"
    assert not (broken.artifacts_dir / "result.txt").exists()
    assert also.artifacts_dir is None  # when: on_success (the default)
    assert "fetched 0 files" in log_of(result, "also-broken")


def test_a_large_tree_is_uploaded_from_a_file(
    project: ProjectFactory, lab: LabInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above SHIP_ON_STDIN the archive is not held in memory: it is uploaded over the
    connection's file transfer and unpacked there (same files, same modes)."""
    from opsforge.pipelines import remote

    monkeypatch.setattr(remote, "SHIP_ON_STDIN", 0)
    root = project(
        files={
            "opsforge-pipeline.yml": """
                big:
                  host: lab11
                  script:
                    - test "$(cat data/one.txt)" = one && test -x data/run.sh
                    - test ! -e ../ship.tar
                    - data/run.sh > made.txt
                  artifacts: {paths: [made.txt]}
                """,
            "data/one.txt": "one",
            "data/run.sh": "#!/bin/sh\necho ran\n",
        }
    )
    os.chmod(root / "data/run.sh", 0o700)
    result = run_native(root, RunSettings(inventory=str(lab.inventory)))
    record = result.records["big"]
    assert record.status.value == "success", log_of(result, "big")
    assert record.artifacts_dir is not None
    assert (record.artifacts_dir / "made.txt").read_text() == "ran\n"
    assert not remote_dir(log_of(result, "big")).exists()


def test_a_tar_the_host_cannot_unpack_fails_the_job_with_tars_words(
    project: ProjectFactory, lab: LabInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host's real tar gets an archive it cannot read (written here on purpose): the
    job fails with what tar said on the host, and the half-made directory is removed."""
    from opsforge.pipelines import remote

    def damaged(root: Path, out: Path, *, native: bool = True) -> int:
        out.write_bytes(b"this is not a tar archive\n" * 100)
        return out.stat().st_size

    monkeypatch.setattr(remote, "pack_tree", damaged)
    root = project(files={"opsforge-pipeline.yml": "job: {host: lab12, script: [echo never]}\n"})
    result = run_native(root, RunSettings(inventory=str(lab.inventory)))
    record = result.records["job"]
    assert record.status.value == "failed"
    assert record.message.startswith("lab12: cannot unpack the job's files in /"), record.message
    assert "tar: This does not look like a tar archive" in record.message
    made = Path(record.message.split(" in ", 1)[1].split(":", 1)[0])
    assert made.name.startswith(f"opsforge-{result.run_id}-job.")
    assert not made.exists()
    assert "never" not in log_of(result, "job").replace("echo never", "")


def test_artifact_steps_are_refused_in_an_ssh_job(project: ProjectFactory, lab: LabInfo) -> None:
    pipeline = """
        remote:
          host: lab13
          steps:
            - echo made > out.txt
            - upload_artifact: {name: out, path: out.txt}
        """
    root = project(files={"opsforge-pipeline.yml": pipeline})
    result = run_native(root, RunSettings(inventory=str(lab.inventory)))
    record = result.records["remote"]
    assert record.status.value == "failed"
    assert "built-in step upload_artifact runs on this machine" in log_of(result, "remote")


def test_cli_merges_the_remote_junit_report(
    project: ProjectFactory, lab: LabInfo, tmp_path: Path
) -> None:
    pipeline = """
        remote:
          host: lab14
          script: [cp fixtures/junit.xml report.xml]
          artifacts: {reports: {junit: report.xml}}
        """
    root = project(files={"opsforge-pipeline.yml": pipeline, "fixtures/junit.xml": JUNIT})
    merged = tmp_path / "merged.xml"
    env = {**os.environ, "OPSFORGE_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.run(
        [*OPSFORGE, "pipeline", "run", "-i", str(lab.inventory), "--junit-reports", str(merged)],
        cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert '<testcase classname="r" name="on-host"' in merged.read_text()
