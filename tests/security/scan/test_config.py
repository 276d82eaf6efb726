"""Configuration checks: each misconfiguration found, its fixed twin clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.security.scan import ScanOptions, run_scan

DOCKERFILE_BAD = """\
# syntax=docker/dockerfile:1
FROM python:latest AS build
ARG GITHUB_TOKEN
ENV API_KEY=abc123 \\
    MODE=prod
RUN curl -fsSL https://get.example.org/install.sh | sh
ADD https://example.org/app.tar.gz /opt/
FROM build
USER root
"""
DOCKERFILE_GOOD = """\
FROM python:3.12-slim@sha256:0123456789abcdef0123456789abcdef0123456789abcdef01234567 AS build
RUN --mount=type=secret,id=token pip install app
COPY app.tar.gz /opt/
FROM build
RUN useradd -r app
USER app
"""
DOCKERFILE_NO_USER = "FROM debian\nRUN apt-get update\n"

K8S_BAD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      hostNetwork: true
      containers:
        - name: app
          image: web:1.0
          securityContext:
            privileged: true
            runAsUser: 0
      volumes:
        - name: docker
          hostPath:
            path: /var/run/docker.sock
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: job
              image: job:1.0
              resources:
                limits: {cpu: 100m, memory: 64Mi}
"""
K8S_GOOD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
  containers:
    - name: app
      image: web:1.0
      resources:
        limits:
          cpu: 500m
          memory: 256Mi
  volumes:
    - name: cache
      emptyDir: {}
"""

GITHUB_BAD = """\
name: ci
on:
  pull_request_target:
env:
  DEPLOY_TOKEN: ${{ secrets.DEPLOY_TOKEN }}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "token is ${{ secrets.NPM_TOKEN }}"
      - run: |
          make build
          echo $DEPLOY_TOKEN
      - run: curl -sSL https://install.example.org | bash
      - run: echo "triage ${{ github.event.issue.title }}"
"""
GITHUB_GOOD = """\
name: ci
on: [pull_request]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11  # v4.1.1
      - uses: ./.github/actions/local
      - run: make build
        env:
          TOKEN: ${{ secrets.NPM_TOKEN }}
"""
GITLAB_BAD = """\
variables:
  DEPLOY_PASSWORD: $VAULT_PASSWORD
deploy:
  script:
    - echo "deploying with $DEPLOY_PASSWORD"
    - curl -s https://get.example.org/setup.sh | sudo bash
"""
GITLAB_GOOD = """\
deploy:
  script:
    - ./deploy.sh --password-file "$PASSWORD_FILE"
"""
SSHD_BAD = (
    "PermitRootLogin yes\nPasswordAuthentication yes\nPermitEmptyPasswords yes\n"
    "Ciphers aes128-cbc,aes256-ctr\nMACs hmac-sha1\n"
)
SSHD_GOOD = (
    "PermitRootLogin no\nPasswordAuthentication no\nMatch User backup\n"
    "  PasswordAuthentication yes\n"
)
SSH_CLIENT_BAD = (
    "Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  ForwardAgent yes\n"
)
SSH_CLIENT_GOOD = "Host bastion\n  ForwardAgent yes\nHost *\n  StrictHostKeyChecking accept-new\n"


def findings(tmp_path: Path, name: str, text: str) -> set[tuple[str, int | None]]:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    report = run_scan(ScanOptions(root=tmp_path, scanners=frozenset({"config"}), jobs=1))
    assert not report.problems, report.problems
    return {(f.rule_id, f.location.line) for f in report.findings}


def test_dockerfile_misconfigurations(tmp_path: Path) -> None:
    assert findings(tmp_path, "Dockerfile", DOCKERFILE_BAD) == {
        ("docker.latest-tag", 2),
        ("docker.secret-in-env", 3),
        ("docker.secret-in-env", 4),
        ("docker.curl-pipe-shell", 6),
        ("docker.add-from-url", 7),
        ("docker.root-user", 9),
    }


def test_dockerfile_fixed_is_clean_and_missing_user_is_root(tmp_path: Path) -> None:
    assert findings(tmp_path / "a", "Dockerfile", DOCKERFILE_GOOD) == set()
    assert findings(tmp_path / "b", "app.Dockerfile", DOCKERFILE_NO_USER) == {
        ("docker.latest-tag", 1),
        ("docker.root-user", 1),
    }


def test_dockerfile_secret_value_is_not_shown(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE_BAD)
    report = run_scan(ScanOptions(root=tmp_path, scanners=frozenset({"config"}), jobs=1))
    snippets = [f.location.snippet or "" for f in report.findings]
    assert "ENV API_KEY=****" in snippets
    assert not any("abc123" in s for s in snippets)


def test_kubernetes_misconfigurations(tmp_path: Path) -> None:
    assert findings(tmp_path, "k8s/web.yaml", K8S_BAD) == {
        ("k8s.host-network", 8),
        ("k8s.privileged", 13),
        ("k8s.run-as-root", 10),
        ("k8s.no-resource-limits", 10),
        ("k8s.host-path", 17),
        ("k8s.run-as-root", 30),  # CronJob container without runAsNonRoot
    }


def test_kubernetes_fixed_is_clean(tmp_path: Path) -> None:
    assert findings(tmp_path, "k8s/web.yaml", K8S_GOOD) == set()


def test_github_workflow_misconfigurations(tmp_path: Path) -> None:
    assert findings(tmp_path, ".github/workflows/ci.yml", GITHUB_BAD) == {
        ("ci.unpinned-action", 10),
        ("ci.pull-request-target-checkout", 12),
        ("ci.secret-echoed", 13),
        ("ci.secret-echoed", 16),
        ("ci.curl-pipe-shell", 17),
        ("ci.expression-injection", 18),
    }


def test_github_workflow_fixed_is_clean(tmp_path: Path) -> None:
    assert findings(tmp_path, ".github/workflows/ci.yml", GITHUB_GOOD) == set()


def test_gitlab_ci(tmp_path: Path) -> None:
    assert findings(tmp_path / "a", ".gitlab-ci.yml", GITLAB_BAD) == {
        ("ci.secret-echoed", 5),
        ("ci.curl-pipe-shell", 6),
    }
    assert findings(tmp_path / "b", ".gitlab-ci.yml", GITLAB_GOOD) == set()


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("etc/ssh/sshd_config", SSHD_BAD, {
            ("sshd-config.permit-root-login", 1), ("sshd-config.password-authentication", 2),
            ("sshd-config.permit-empty-passwords", 3), ("ssh-config.weak-algorithms", 4),
            ("ssh-config.weak-algorithms", 5)}),
        ("etc/ssh/sshd_config", SSHD_GOOD, set()),
        ("home/.ssh/config", SSH_CLIENT_BAD, {
            ("ssh-config.no-host-key-checking", 2), ("ssh-config.no-host-key-checking", 3),
            ("ssh-config.forward-agent-all", 4)}),
        ("home/.ssh/config", SSH_CLIENT_GOOD, set()),
    ],
)  # fmt: skip
def test_ssh_configs(tmp_path: Path, name: str, text: str, expected: set[tuple[str, int]]) -> None:
    assert findings(tmp_path, name, text) == expected


def test_broken_yaml_is_reported_with_its_line_and_the_scan_goes_on(tmp_path: Path) -> None:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nspec: [a, b\n")
    (tmp_path / "k8s" / "web.yaml").write_text(K8S_BAD)
    report = run_scan(ScanOptions(root=tmp_path, scanners=frozenset({"config"}), jobs=1))
    (problem,) = report.problems
    assert problem.path == "k8s/broken.yaml"
    assert problem.line == 4
    assert problem.message.startswith("not checked: broken YAML")
    assert report.incomplete
    assert any(f.rule_id == "k8s.privileged" for f in report.findings)
