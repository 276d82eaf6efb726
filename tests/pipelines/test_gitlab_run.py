"""GitLab CI pipelines run for real: ordering, matrix, artifacts, dotenv, when, allow_failure."""

from __future__ import annotations

import asyncio
from pathlib import Path

from opsforge.pipelines.planner import plan_pipeline
from opsforge.pipelines.run import run_pipeline

from .conftest import ProjectFactory, load, log_text, run, statuses


def test_stages_order_jobs_and_needs_start_early(project: ProjectFactory, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    root = project(
        f"""
        stages: [build, test, deploy]
        build:
          stage: build
          script:
            - echo start-build >> {trace}
            # ends only once "early" has started: proves needs: [] does not wait for it
            - for i in $(seq 600); do grep -q start-early {trace} && break; sleep 0.1; done
            - echo end-build >> {trace}
        early:
          stage: test
          needs: []
          script: [echo start-early >> {trace}]
        test:
          stage: test
          script: [echo start-test >> {trace}]
        deploy:
          stage: deploy
          script: [echo start-deploy >> {trace}]
        """
    )
    result = run(root)
    assert result.exit_code == 0
    lines = trace.read_text().split()
    assert lines.index("start-early") < lines.index("end-build")  # needs: [] starts at once
    assert lines.index("end-build") < lines.index("start-test")
    assert lines.index("start-test") < lines.index("start-deploy")


def test_parallel_and_matrix_job_names_and_variables(project: ProjectFactory) -> None:
    root = project(
        """
        test:
          parallel:
            matrix:
              - PY: ["3.11", "3.12"]
                OS: [linux, mac]
              - PY: "pypy"
          script: echo "cell $PY $OS $CI_NODE_INDEX/$CI_NODE_TOTAL $CI_JOB_NAME"
        shard:
          parallel: 3
          script: echo "shard $CI_NODE_INDEX of $CI_NODE_TOTAL"
        """
    )
    result = run(root)
    names = list(result.records)
    assert names[:5] == [
        "test: [3.11, linux]",
        "test: [3.11, mac]",
        "test: [3.12, linux]",
        "test: [3.12, mac]",
        "test: [pypy]",
    ]
    assert names[5:] == ["shard 1/3", "shard 2/3", "shard 3/3"]
    assert "cell 3.12 mac 4/5 test: [3.12, mac]" in log_text(result, "test: [3.12, mac]")
    assert "shard 2 of 3" in log_text(result, "shard 2/3")


def test_needs_on_a_matrix_cell(project: ProjectFactory, tmp_path: Path) -> None:
    root = project(
        """
        build:
          stage: build
          parallel:
            matrix:
              - ARCH: [amd64, arm64]
          script: echo $ARCH
        pack:
          stage: test
          needs:
            - job: build
              parallel:
                matrix:
                  - ARCH: arm64
          script: echo pack
        all:
          stage: test
          needs: [build]
          script: echo all
        """
    )
    result = run(root)
    plan = result.plan
    assert plan["pack"].deps == ("build: [arm64]",)
    assert plan["all"].deps == ("build: [amd64]", "build: [arm64]")


def test_artifacts_pass_between_isolated_workdirs(project: ProjectFactory) -> None:
    root = project(
        """
        build:
          stage: build
          script:
            - mkdir -p dist logs
            - echo binary > dist/app
            - echo noise > dist/app.tmp
            - echo log > logs/build.log
            - echo scratch > scratch.txt
          artifacts:
            paths: [dist/, logs/*.log]
            exclude: ["dist/*.tmp"]
        test:
          stage: test
          script:
            - cat dist/app
            - test -f logs/build.log
            - test ! -e dist/app.tmp
            - test ! -e scratch.txt
            - pwd
        """,
        files={"README": "tracked\n"},
    )
    result = run(root)
    assert statuses(result) == {"build": "success", "test": "success"}, log_text(result, "test")
    text = log_text(result, "test")
    assert "binary" in text
    # isolated: not the project dir, and the project dir is untouched
    assert str(root) + "\n" not in text
    assert not (root / "dist").exists()
    assert not (root / "scratch.txt").exists()


def test_dependencies_empty_fetches_no_artifacts(project: ProjectFactory) -> None:
    root = project(
        """
        build:
          stage: build
          script: [echo x > out.txt]
          artifacts: {paths: [out.txt]}
        test:
          stage: test
          dependencies: []
          script: [test ! -e out.txt]
        """
    )
    assert run(root).exit_code == 0


def test_dotenv_report_feeds_later_jobs(project: ProjectFactory) -> None:
    root = project(
        """
        build:
          stage: build
          script: ['echo "BUILD_VERSION=4.5.6" > build.env']
          artifacts:
            reports: {dotenv: build.env}
        test:
          stage: test
          variables: {BUILD_VERSION: overridden-by-dotenv}
          script: ['echo "version is $BUILD_VERSION"']
        """
    )
    result = run(root)
    assert "version is 4.5.6" in log_text(result, "test")


def test_when_on_failure_and_always_and_skipped_dependents(project: ProjectFactory) -> None:
    root = project(
        """
        stages: [build, test, cleanup]
        build: {stage: build, script: [exit 7]}
        test: {stage: test, script: [echo never]}
        notify: {stage: cleanup, when: on_failure, script: [echo notified]}
        always: {stage: cleanup, when: always, script: [echo cleaned]}
        quiet: {stage: cleanup, script: [echo no]}
        """
    )
    result = run(root)
    assert statuses(result) == {
        "build": "failed",
        "test": "skipped",
        "notify": "success",
        "always": "success",
        "quiet": "skipped",
    }
    assert result.records["build"].exit_code == 7
    assert result.exit_code == 1


def test_on_failure_job_is_skipped_when_everything_passed(project: ProjectFactory) -> None:
    root = project(
        """
        build: {stage: build, script: [echo ok]}
        notify: {stage: deploy, when: on_failure, script: [echo notified]}
        """
    )
    result = run(root)
    assert statuses(result) == {"build": "success", "notify": "skipped"}
    assert result.exit_code == 0


def test_allow_failure_and_exit_codes(project: ProjectFactory) -> None:
    root = project(
        """
        soft: {stage: build, script: [exit 3], allow_failure: {exit_codes: [3, 4]}}
        hard: {stage: build, script: [exit 5], allow_failure: {exit_codes: [3]}}
        plain: {stage: build, script: [exit 1], allow_failure: true}
        after: {stage: test, needs: [soft, plain], script: [echo ran]}
        """
    )
    result = run(root)
    rec = result.records
    assert rec["soft"].allowed_failure
    assert rec["plain"].allowed_failure
    assert not rec["hard"].allowed_failure
    assert rec["after"].status.value == "success"
    assert result.exit_code == 1  # hard is not allowed to fail


def test_only_allowed_failures_exit_zero(project: ProjectFactory) -> None:
    root = project("soft: {script: [exit 2], allow_failure: true}\n")
    assert run(root).exit_code == 0


def test_manual_jobs_run_only_when_named(project: ProjectFactory, tmp_path: Path) -> None:
    marker = tmp_path / "deployed"
    root = project(
        f"""
        build: {{stage: build, script: [echo built]}}
        deploy: {{stage: deploy, when: manual, script: [touch {marker}]}}
        after_deploy: {{stage: .post, needs: [deploy], script: [echo after]}}
        """
    )
    result = run(root)
    assert statuses(result) == {"build": "success", "deploy": "manual", "after_deploy": "not_run"}
    assert not marker.exists()
    assert "needs 'deploy'" in result.records["after_deploy"].message
    named = run(root, ["deploy"])
    assert named.records["deploy"].status.value == "success"
    assert marker.exists()
    marker.unlink()
    whole = asyncio.run(run_pipeline(plan_pipeline(load(root), manual=["deploy"])))
    assert statuses(whole) == {
        "build": "success",
        "deploy": "success",
        "after_deploy": "success",
    }
    assert marker.exists()


def test_named_job_runs_with_its_needs_only(project: ProjectFactory) -> None:
    root = project(
        """
        a: {stage: build, script: [echo a]}
        b: {stage: build, script: [echo b]}
        c: {stage: test, needs: [a], script: [echo c]}
        """
    )
    result = run(root, ["c"])
    assert statuses(result) == {"a": "success", "b": "not_run", "c": "success"}


def test_after_script_runs_before_artifacts_and_after_failure(project: ProjectFactory) -> None:
    root = project(
        """
        build:
          stage: build
          script: [echo main > part.txt, exit 1]
          after_script: ['echo "after saw $(cat part.txt) $CI_JOB_STATUS" > report.txt', exit 9]
          allow_failure: true
          artifacts: {paths: [report.txt], when: always}
        check:
          stage: test
          script: [cat report.txt]
        """
    )
    result = run(root)
    assert "after saw main failed" in log_text(result, "check")
    assert "after_script failed" in log_text(result, "build")  # noted, ignored
    assert result.records["build"].exit_code == 1


def test_resource_group_is_a_mutex(project: ProjectFactory, tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    job = "{{script: [echo start-{n} >> {t}, sleep 0.2, echo end-{n} >> {t}], "
    job += "resource_group: prod}}"
    root = project("\n".join(f"d{n}: " + job.format(n=n, t=trace) for n in range(3)) + "\n")
    assert run(root).exit_code == 0
    lines = trace.read_text().split()
    for i in range(0, 6, 2):  # start/end pairs never interleave
        assert lines[i].startswith("start-")
        assert lines[i + 1] == "end-" + lines[i][6:]


def test_variables_precedence_and_predefined(project: ProjectFactory) -> None:
    root = project(
        """
        variables:
          WHO: global
          ONLY_GLOBAL: g
          DERIVED: "${WHO}-derived"
        job:
          variables: {WHO: job}
          script:
            - echo "who=$WHO only=$ONLY_GLOBAL derived=$DERIVED cli=$FROM_CLI"
            - echo "branch=$CI_COMMIT_BRANCH sha=${#CI_COMMIT_SHA} title=$CI_COMMIT_TITLE"
            - echo "dir=$CI_PROJECT_DIR pwd=$(pwd) source=$CI_PIPELINE_SOURCE"
        """
    )
    result = run(root, variables={"FROM_CLI": "cli"})
    text = log_text(result, "job")
    # expansion happens with the job's final variables, as GitLab does
    assert "who=job only=g derived=job-derived cli=cli" in text
    assert "branch=main sha=40 title=initial commit" in text
    line = next(ln for ln in text.splitlines() if ln.startswith("dir="))
    directory, pwd = line.split()[0][4:], line.split()[1][4:]
    assert directory == pwd
    assert "source=push" in text


def test_trigger_runs_a_local_child_pipeline(project: ProjectFactory) -> None:
    root = project(
        """
        child:
          trigger:
            include: child.yml
            strategy: depend
        """,
        files={"child.yml": "inner: {script: [echo from-child, exit 4]}\n"},
    )
    result = run(root)
    assert result.records["child"].status.value == "failed"
    assert "[inner] from-child" in log_text(result, "child")
