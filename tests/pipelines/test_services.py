"""Job services against a real, private dockerd: reached by alias, ready before the
steps, a service that dies, cleanup after failure/timeout/Ctrl-C, the no-docker
warning, and one image inspect per distinct image per run."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from opsforge.pipelines.planner import plan_pipeline
from opsforge.pipelines.run import run_pipeline
from opsforge.pipelines.runstate import RunSettings

from .conftest import ProjectFactory, load, log_text, run, statuses
from .dockerd import IMAGE
from .github.conftest import load as load_github
from .github.conftest import repo, write_workflow
from .github.conftest import run as run_github

__all__ = ["repo"]  # the git project fixture of the GitHub tests

WEB = "opsforge-test/web:1"
GET = r"printf 'GET / HTTP/1.0\r\n\r\n' | nc"


def docker(host: str, *args: str) -> str:
    return subprocess.run(
        ["docker", *args], env={**os.environ, "DOCKER_HOST": host}, capture_output=True,
        text=True, check=True, timeout=120,
    ).stdout  # fmt: skip


@pytest.fixture(scope="session")
def web_image(docker_host: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A service image built from the busybox test image (itself FROM scratch): busybox
    httpd on 8080, EXPOSEd, so readiness waiting has a port to wait for."""
    context = tmp_path_factory.mktemp("web-image")
    (context / "Dockerfile").write_text(
        f"FROM {IMAGE}\n"
        "RUN mkdir /www && echo hello-from-web > /www/index.html\n"
        "EXPOSE 8080\n"
        'CMD ["httpd", "-f", "-v", "-p", "8080", "-h", "/www"]\n'
    )
    env = {**os.environ, "DOCKER_HOST": docker_host, "DOCKER_BUILDKIT": "0"}
    subprocess.run(
        ["docker", "build", "-q", "-t", WEB, str(context)], env=env, capture_output=True,
        check=True, timeout=180,
    )  # fmt: skip
    return WEB


@pytest.fixture
def dockerd(docker_host: str, web_image: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    return docker_host


def leftovers(host: str, run_id: str) -> tuple[str, str]:
    """Containers and networks of the run still on the private dockerd."""
    label = f"label=opsforge.run={run_id}"
    containers = docker(host, "ps", "-aq", "--filter", label).strip()
    networks = docker(host, "network", "ls", "-q", "--filter", label).strip()
    return containers, networks


def test_gitlab_job_reaches_its_services_by_alias_once_they_are_ready(
    project: ProjectFactory, dockerd: str
) -> None:
    # the service sleeps before it listens: the job's first connection only works when
    # opsforge waited for the EXPOSEd port
    root = project(
        rf"""
        variables: {{GREETING: hello, TAG: "1"}}
        fetch:
          image: {IMAGE.replace(":1", ":$TAG")}
          services:
            - name: {WEB.replace(":1", ":$TAG")}
              alias: web, www
              entrypoint: [sh, -c]
              command:
                - echo "starting as $WHO"; sleep 1;
                  echo "$GREETING from $WHO" > /www/index.html;
                  exec httpd -f -v -p 8080 -h /www
              variables: {{WHO: the-service}}
          script:
            - {GET} web 8080 | tail -1
            - {GET} www 8080 | tail -1
            - {GET} opsforge-test-web 8080 | tail -1
            - {GET} opsforge-test__web 8080 | tail -1
        """
    )
    result = run(root)
    text = log_text(result, "fetch")
    assert result.exit_code == 0, text
    assert result.records["fetch"].executor == "docker"
    assert text.count("hello from the-service") == 4
    assert "service web: started opsforge-test/web:1 as web, www, opsforge-test__web" in text
    assert "[service] [web] starting as the-service" in text
    removed = re.search(r"services: removed web \(\w{12}\), network (\S+) \((\w{12})\)", text)
    assert removed, text
    assert leftovers(dockerd, result.run_id) == ("", "")


def test_github_services_by_key_with_env_options_and_health_checks(
    repo: Path, dockerd: str
) -> None:
    path = write_workflow(
        repo,
        textwrap.dedent(
            rf"""
            on: push
            jobs:
              check:
                runs-on: ubuntu-latest
                container: {IMAGE}
                services:
                  cache:
                    image: {WEB}
                    env: {{WHO: gh}}
                    options: --label purpose=test
                  unused:
                    image: ''
                steps:
                  - run: {GET} cache 8080 | tail -1
              healthy:
                runs-on: ubuntu-latest
                container: {IMAGE}
                services:
                  web:
                    image: {WEB}
                    options: --health-cmd "test -f /www/index.html" --health-interval 1s
                steps: [{{run: echo reached}}]
              sick:
                runs-on: ubuntu-latest
                container: {IMAGE}
                services:
                  web:
                    image: {WEB}
                    options: >-
                      --health-cmd "echo db is down; exit 1"
                      --health-interval 1s --health-retries 1
                steps: [{{run: echo never-reached}}]
            """
        ),
    )
    result = run_github(repo, load_github(repo, path))
    assert statuses(result) == {"check": "success", "healthy": "success", "sick": "failed"}
    check = log_text(result, "check")
    assert "hello-from-web" in check
    assert "service cache: started opsforge-test/web:1 as cache" in check
    assert "(8080/tcp accepting, healthy)" in log_text(result, "healthy")
    sick = log_text(result, "sick")
    assert f"service web ({WEB}) is unhealthy (its health check failed: db is down)" in sick
    assert "never-reached" not in sick
    assert leftovers(dockerd, result.run_id) == ("", "")


def test_circleci_secondary_image_is_on_localhost(repo: Path, dockerd: str) -> None:
    config = repo / ".circleci" / "config.yml"
    config.parent.mkdir()
    config.write_text(
        textwrap.dedent(
            rf"""
            version: 2.1
            jobs:
              build:
                docker:
                  - image: {IMAGE}
                  - image: {WEB}
                    name: webby
                    environment: {{WHO: circle}}
                steps:
                  - run: {GET} localhost 8080 | tail -1
                  - run: {GET} webby 8080 | tail -1 | sed s/^/by-name-/
            workflows:
              main: {{jobs: [build]}}
            """
        )
    )
    result = run_github(repo, load_github(repo, config, fmt="circleci"))
    text = log_text(result, "build")
    assert result.exit_code == 0, text
    assert "hello-from-web" in text
    assert "by-name-hello-from-web" in text  # CircleCI's `name:`
    assert f"service webby: started {WEB} on localhost (webby)" in text
    assert leftovers(dockerd, result.run_id) == ("", "")


def test_a_service_that_exits_fails_the_job_and_shows_its_log(
    project: ProjectFactory, dockerd: str
) -> None:
    root = project(
        f"""
        db:
          image: {IMAGE}
          services:
            - name: {WEB}
              alias: slow
              command: [sleep, "60"]
            - name: {WEB}
              alias: db
              command: [sh, -c, "echo bad config line 3 >&2; exit 3"]
          script: [echo the-script-ran]
        """
    )
    result = run(root)
    text = log_text(result, "db")
    assert statuses(result) == {"db": "failed"}
    assert result.exit_code == 1
    assert f"service db ({WEB}) exited with code 3 before it was ready" in text
    assert "  | bad config line 3" in text
    assert "the-script-ran" not in text
    assert "not ready after" not in text  # the failure ended the wait for the slow one
    assert "services: removed slow" in text
    assert leftovers(dockerd, result.run_id) == ("", "")


def test_failure_and_timeout_leave_nothing_behind(project: ProjectFactory, dockerd: str) -> None:
    root = project(
        f"""
        fails:
          image: {IMAGE}
          services: [{WEB}]
          retry: 1
          script: [{GET} opsforge-test-web 8080, exit 4]
          after_script: [{GET} opsforge-test-web 8080 | tail -1]
        slow:
          image: {IMAGE}
          timeout: 3s
          services: [{WEB}]
          script: [sleep 60]
        """
    )
    result = run(root)
    assert statuses(result) == {"fails": "failed", "slow": "timed_out"}
    fails = log_text(result, "fails")
    assert fails.count("hello-from-web") == 4  # script and after_script (services outlive it), x2
    assert fails.count("services: removed opsforge-test__web") == 2  # each attempt its own
    assert "services: removed opsforge-test__web" in log_text(result, "slow")
    assert leftovers(dockerd, result.run_id) == ("", "")


def test_readiness_uses_healthcheck_tcp_port_and_a_slow_service_only_warns(
    project: ProjectFactory, dockerd: str
) -> None:
    root = project(
        f"""
        a:
          image: {IMAGE}
          services:
            - name: {WEB}
              alias: never
              command: [sleep, "60"]
            - name: {WEB}
              alias: alt
              command: [httpd, -f, -p, "9090", -h, /www]
              variables: {{HEALTHCHECK_TCP_PORT: "9090"}}
          script: [{GET} alt 9090 | tail -1]
        """
    )
    result = run(root, settings=RunSettings(services_timeout=1.5))
    text = log_text(result, "a")
    assert result.exit_code == 0, text
    assert f"warning: service never ({WEB}) not ready after 1.5s (waiting for ports [8080])" in text
    assert "service alt: ready after" in text
    assert "(9090/tcp accepting)" in text
    assert "hello-from-web" in text
    assert leftovers(dockerd, result.run_id) == ("", "")


def test_a_job_docker_host_is_for_the_job_not_for_opsforge(
    project: ProjectFactory, dockerd: str
) -> None:
    # the docker-in-docker pattern: DOCKER_HOST names the service, for the job's own client
    root = project(
        f"""
        dind:
          image: {IMAGE}
          variables: {{DOCKER_HOST: "tcp://docker:2375"}}
          services: [{{name: {WEB}, alias: docker}}]
          script: [echo "client talks to $DOCKER_HOST", {GET} docker 8080 | tail -1]
        """
    )
    result = run(root)
    text = log_text(result, "dind")
    assert result.exit_code == 0, text
    assert result.records["dind"].executor == "docker"
    assert "client talks to tcp://docker:2375" in text
    assert "hello-from-web" in text


def test_service_output_is_masked_in_the_job_log(project: ProjectFactory, dockerd: str) -> None:
    root = project(
        f"""
        a:
          image: {IMAGE}
          variables: {{TOKEN: s3cr3t-value-42}}
          services:
            - name: {WEB}
              alias: api
              command: [sh, -c, 'echo "api token=$TOKEN"; exec httpd -f -p 8080 -h /www']
          script: [{GET} api 8080 | tail -1]
        """
    )
    plan = plan_pipeline(load(root))
    result = asyncio.run(run_pipeline(plan, RunSettings(), secrets=["s3cr3t-value-42"]))
    text = log_text(result, "a")
    assert result.exit_code == 0, text
    assert "[service] [api] api token=***" in text
    for log in result.run_dir.glob("logs/*"):
        assert "s3cr3t-value-42" not in log.read_text()


def test_missing_service_image_is_a_clear_job_failure(
    project: ProjectFactory, dockerd: str
) -> None:
    root = project(f"a:\n  image: {IMAGE}\n  services: [nope/db:1]\n  script: [echo ran]\n")
    result = run(root)
    text = log_text(result, "a")
    assert statuses(result) == {"a": "failed"}
    assert "service image nope/db:1 is not present locally" in text
    assert "docker pull nope/db:1" in text


def test_ctrl_c_removes_services_and_network(project: ProjectFactory, dockerd: str) -> None:
    root = project(
        f"slow:\n  image: {IMAGE}\n  services: [{WEB}]\n  script: [echo running-now, sleep 60]\n"
    )
    env = {**os.environ, "OPSFORGE_STATE_DIR": str(root.parent / "state")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsforge", "pipeline", "run"], cwd=root, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # live output: the step is running once it printed this
            if line.strip() == "[slow] running-now":
                break
        else:
            pytest.fail(f"the job never ran: {proc.communicate()[1]}")
        run_id = next((root / ".opsforge" / "runs").iterdir()).name
        assert leftovers(dockerd, run_id)[1] != ""  # the network exists while it runs
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert leftovers(dockerd, run_id) == ("", "")
    log = root / ".opsforge" / "runs" / run_id / "logs" / "slow.log"
    assert "services: removed opsforge-test__web" in log.read_text()
    assert "sleep 60" in log.read_text()


def test_without_docker_services_are_named_in_one_warning(
    project: ProjectFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    ci = "a:\n  image: alpine:3\n  services: [postgres:16, {name: redis:7, alias: cache}]\n"
    root = project(ci + "  script: [echo ran-in-shell]\n")
    result = run(root)
    text = log_text(result, "a")
    assert result.exit_code == 0, text
    (warning,) = [line for line in text.splitlines() if "warning" in line]
    assert warning.startswith("[opsforge] warning: dockerd is not reachable (")
    assert warning.endswith(
        "; running a in the shell executor; services not started: postgres:16, cache"
    )
    forced = run(root, settings=RunSettings(executor="shell"))
    text = log_text(forced, "a")
    assert "warning: services not started (the job runs in the shell executor)" in text


def test_one_version_and_one_inspect_per_distinct_image_per_run(
    project: ProjectFactory, dockerd: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every docker CLI call opsforge makes goes through this logging shim to the real CLI
    real = shutil.which("docker")
    assert real is not None
    calls = tmp_path / "docker-calls"
    shim = tmp_path / "bin" / "docker"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {real} "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim.parent}{os.pathsep}{os.environ['PATH']}")
    jobs = "".join(f"j{i}:\n  image: {IMAGE}\n  script: [echo {i}]\n" for i in range(6))
    jobs += "".join(
        f"s{i}:\n  image: {IMAGE}\n  services: [{WEB}]\n  script: [{GET} opsforge-test-web 8080]\n"
        for i in range(2)
    )
    result = run(project(jobs))
    assert result.exit_code == 0
    lines = calls.read_text().splitlines()
    inspected = sorted(line.split()[-1] for line in lines if line.startswith("image inspect"))
    assert inspected == [IMAGE, WEB]
    assert sum(line.startswith("version") for line in lines) == 1
    assert sum(line.startswith("run --rm") for line in lines) == 8  # one per job's step
