"""Runtime behaviour with real processes: timeouts kill the process group, retry, cache,
up-to-date checks, masking, JUnit files."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from pathlib import Path

from lxml import etree

from opsforge.engine import Event
from opsforge.pipelines.junit import job_results_xml, merged_reports_xml, write_xml
from opsforge.pipelines.masking import Masker
from opsforge.pipelines.model import Artifacts, Job, Pipeline, SourceLocation, Step
from opsforge.pipelines.planner import plan_pipeline
from opsforge.pipelines.run import run_pipeline
from opsforge.pipelines.runstate import RunSettings
from opsforge.types import Secret

from .conftest import ProjectFactory, log_text, run, statuses

XSD = Path(__file__).parent / "data" / "junit.xsd"


def _gone(pid: int, wait: float = 30.0) -> bool:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # a zombie still answers kill(0); look at its state
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def test_timeout_kills_the_whole_process_group(project: ProjectFactory, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    root = project(
        f"""
        slow:
          timeout: 1s
          script:
            - sleep 60 &
            - echo $! > {pidfile}
            - wait
        """
    )
    result = run(root)
    record = result.records["slow"]
    assert record.status.value == "timed_out"
    assert "timed out after 1s" in record.message
    assert result.exit_code == 1
    assert _gone(int(pidfile.read_text())), "the background sleep survived the timeout"


def test_retry_counts_and_when(project: ProjectFactory, tmp_path: Path) -> None:
    counter = tmp_path / "count"
    counter2 = tmp_path / "count2"
    root = project(
        f"""
        flaky:
          retry: 2
          script:
            - echo x >> {counter}
            - test $(wc -l < {counter}) -ge 3
        only_timeouts:
          retry: {{max: 2, when: [job_execution_timeout]}}
          script: [echo x >> {counter2}, exit 1]
        """
    )
    result = run(root)
    assert result.records["flaky"].status.value == "success"
    assert result.records["flaky"].attempts == 3
    assert len(counter.read_text().split()) == 3
    assert result.records["only_timeouts"].attempts == 1  # a script failure is not retried
    assert len(counter2.read_text().split()) == 1


def test_retry_exit_codes(project: ProjectFactory) -> None:
    root = project(
        """
        a: {retry: {max: 2, exit_codes: [137]}, script: [exit 1]}
        b: {retry: {max: 1, exit_codes: [3]}, script: [exit 3]}
        """
    )
    result = run(root)
    assert result.records["a"].attempts == 1
    assert result.records["b"].attempts == 2


def test_cache_miss_then_hit_key_files_and_policy(project: ProjectFactory, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    root = project(
        """
        fill:
          stage: build
          cache: {key: {files: [lock.txt], prefix: deps}, paths: [vendor/]}
          script:
            - 'if [ -f vendor/lib ]; then echo "hit $(cat vendor/lib)"; else echo miss; fi'
            - mkdir -p vendor && echo v1 > vendor/lib
        reader:
          stage: test
          cache: {key: {files: [lock.txt], prefix: deps}, paths: [vendor/], policy: pull}
          script:
            - cat vendor/lib
            - echo changed > vendor/lib
        """,
        files={"lock.txt": "a==1\n"},
    )
    settings = RunSettings(cache_dir=cache_dir)
    first = run(root, settings=settings)
    assert "miss" in log_text(first, "fill")
    assert "v1" in log_text(first, "reader")
    second = run(root, settings=settings)
    assert "hit v1" in log_text(second, "fill")  # the pull policy did not overwrite it
    (root / "lock.txt").write_text("a==2\n")
    third = run(root, settings=settings)
    assert "miss" in log_text(third, "fill")  # new key from the changed lock file
    keys = sorted(p.name for p in cache_dir.iterdir())
    assert len(keys) == 2
    assert all(k.startswith("deps-") for k in keys)


def test_secrets_are_masked_in_every_log_line(project: ProjectFactory) -> None:
    secret = "p4ss-w0rd-xyz"
    root = project(
        """
        leak:
          script:
            - echo "plain $TOKEN"
            - echo "b64 $(printf %s "$TOKEN" | base64)"
            - echo "b64nl $(echo "$TOKEN" | base64)"
            - echo "prefixed $(printf %s "user:$TOKEN" | base64)"
            - echo "stderr $TOKEN" >&2
        """
    )
    events: list[Event] = []
    result = run(root, events=events, secrets={"TOKEN": Secret(secret)})
    assert result.exit_code == 0
    text = log_text(result, "leak")
    assert "plain ***" in text
    assert "stderr ***" in text
    for prefix in ("", "user:"):
        encoded = base64.b64encode((prefix + secret).encode()).decode()
        assert encoded not in text
    assert base64.b64encode(secret.encode()).decode().rstrip("=") not in text
    assert secret not in text
    for event in events:
        assert secret not in json.dumps(event.to_dict())


def test_masker_covers_base64_alignments() -> None:
    masker = Masker(["correct-horse"])
    for prefix in ("", "a", "ab", "user:"):
        encoded = base64.b64encode((prefix + "correct-horse").encode()).decode()
        masked = masker.mask(encoded)
        assert "***" in masked
        assert len(masked) < len(encoded)
    assert masker.mask("x correct-horse y") == "x *** y"
    assert Masker(["abc"]).mask("abc") == "abc"  # too short to mask


def test_up_to_date_jobs_are_skipped_as_cached(project: ProjectFactory, tmp_path: Path) -> None:
    root = project(files={"src/a.c": "int main;\n"})
    counter = tmp_path / "runs"
    job = Job("compile", steps=(Step(run=f"echo x >> {counter}"),), inputs=("src/**/*.c",))
    pipeline = Pipeline("p", "native", SourceLocation("p.yml"), root, (job,))

    def once() -> str:
        result = asyncio.run(run_pipeline(plan_pipeline(pipeline), RunSettings()))
        return result.records["compile"].status.value

    assert once() == "success"
    assert once() == "cached"
    (root / "src" / "a.c").write_text("int main(void);\n")
    assert once() == "success"
    assert len(counter.read_text().split()) == 2


def test_junit_of_job_results_and_merged_reports_validate(
    project: ProjectFactory, tmp_path: Path
) -> None:
    report = """<?xml version="1.0"?>
<testsuite name="unit" tests="2"><testcase classname="m" name="ok" time="0.1"/>
<testcase classname="m" name="bad"><failure message="boom">trace</failure></testcase></testsuite>
"""
    root = project(
        """
        unit:
          script: [mkdir -p out, cp fixtures/report.xml out/report.xml]
          artifacts: {when: always, reports: {junit: out/*.xml}}
        broken: {script: [exit 2]}
        soft: {script: [exit 2], allow_failure: true}
        manual: {script: [echo], when: manual}
        """,
        files={"fixtures/report.xml": report},
    )
    result = run(root)
    assert statuses(result)["broken"] == "failed"
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    results = tmp_path / "results.xml"
    write_xml(job_results_xml("pipe", result.records.values()), results)
    doc = etree.parse(str(results))
    schema.assertValid(doc)
    suite = doc.getroot()[0]
    assert suite.get("tests") == "4"
    assert suite.get("failures") == "1"
    assert suite.get("skipped") == "2"  # the allowed failure and the manual job
    merged_path = tmp_path / "merged.xml"
    merged, problems = merged_reports_xml("pipe", result.records.values())
    write_xml(merged, merged_path)
    assert problems == []
    merged_doc = etree.parse(str(merged_path))
    schema.assertValid(merged_doc)
    assert merged_doc.getroot().get("failures") == "1"
    assert merged_doc.getroot()[0].get("name") == "unit: unit"


def test_cached_job_hands_on_its_artifacts_and_fail_fast_skips_cells(
    project: ProjectFactory,
) -> None:
    root = project(files={"src/a.txt": "input\n"})
    producer = Job(
        "produce", stage="build", steps=(Step(run="mkdir -p out; cp src/a.txt out/"),),
        inputs=("src/*",), artifacts=Artifacts(paths=("out/",)),
    )  # fmt: skip
    consumer = Job("consume", stage="test", steps=(Step(run="cat out/a.txt"),))
    cells = [
        Job(f"cell {i}", stage="test", needs=(), matrix_of="cell", fail_fast=True,
            steps=(Step(run=f"sleep 0.{i}; exit {1 if i == 0 else 0}"),))
        for i in range(2)
    ]  # fmt: skip
    pipeline = Pipeline("p", "native", SourceLocation("p.yml"), root, (producer, consumer, *cells))
    settings = RunSettings(concurrency=1)
    first = asyncio.run(run_pipeline(plan_pipeline(pipeline), settings))
    assert first.records["cell 0"].status.value == "failed"
    assert first.records["cell 1"].status.value == "skipped"
    assert "fail-fast" in first.records["cell 1"].message
    second = asyncio.run(run_pipeline(plan_pipeline(pipeline), settings))
    assert second.records["produce"].status.value == "cached"
    assert second.records["consume"].status.value == "success"
    log = second.records["consume"].log_path
    assert log is not None
    assert "input" in log.read_text()


def test_resource_group_holds_across_concurrent_runs(
    project: ProjectFactory, tmp_path: Path
) -> None:
    trace = tmp_path / "trace"
    root = project(files={"x": "x\n"})
    job = Job(
        "deploy", resource_group="prod",
        steps=(Step(run=f"echo start >> {trace}; sleep 0.3; echo end >> {trace}"),),
    )  # fmt: skip
    pipeline = Pipeline("p", "native", SourceLocation("p.yml"), root, (job,))

    async def both() -> list[int]:
        runs = await asyncio.gather(
            run_pipeline(plan_pipeline(pipeline), RunSettings(run_dir=tmp_path / "r1")),
            run_pipeline(plan_pipeline(pipeline), RunSettings(run_dir=tmp_path / "r2")),
        )
        return [r.exit_code for r in runs]

    assert asyncio.run(both()) == [0, 0]
    assert trace.read_text().split() == ["start", "end", "start", "end"]


def test_old_run_directories_are_pruned(project: ProjectFactory) -> None:
    root = project("a: {script: [echo a]}\n")
    runs = root / ".opsforge" / "runs"
    for i in range(25):
        (runs / f"20000101T0000{i:02d}Z-old").mkdir(parents=True)
    result = run(root)
    kept = sorted(p.name for p in runs.iterdir())
    assert len(kept) == 20
    assert result.run_dir.name in kept
    assert "20000101T000000Z-old" not in kept
    assert (root / ".opsforge" / ".gitignore").read_text().endswith("*\n")


def test_file_variables_hand_the_job_a_path(project: ProjectFactory) -> None:
    from opsforge.pipelines.model import Variable

    root = project(files={"x": "x\n"})
    job = Job(
        "read", variables={"KUBECONFIG": Variable(Secret("apiVersion: v1"), file=True)},
        steps=(Step(run='test -f "$KUBECONFIG" && cat "$KUBECONFIG"; echo " at $KUBECONFIG"'),),
    )  # fmt: skip
    pipeline = Pipeline("p", "native", SourceLocation("p.yml"), root, (job,))
    result = asyncio.run(run_pipeline(plan_pipeline(pipeline), RunSettings()))
    assert result.exit_code == 0
    log = result.records["read"].log_path
    assert log is not None
    text = log.read_text()
    assert "*** at " in text  # the secret file's content is masked too
    assert "/files/KUBECONFIG" in text
