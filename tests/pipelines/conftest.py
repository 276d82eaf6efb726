"""Fixtures for pipeline tests: a small git project written by the test, and run helpers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from opsforge.pipelines.formats import LoadOptions
from opsforge.pipelines.gitlab import load_gitlab
from opsforge.pipelines.model import Pipeline
from opsforge.pipelines.planner import plan_pipeline
from opsforge.pipelines.run import PipelineRun, run_pipeline
from opsforge.pipelines.runstate import RunSettings

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


def git(root: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True,
        env={**os.environ, **GIT_ENV},
    )  # fmt: skip
    return proc.stdout


ProjectFactory = Callable[..., Path]


@pytest.fixture
def project(tmp_path: Path) -> ProjectFactory:
    """``project(ci_yaml, files={...}, use_git=True)``: a project with .gitlab-ci.yml, committed."""

    def make(
        ci: str | None = None, files: Mapping[str, str] | None = None, *, use_git: bool = True
    ) -> Path:
        root = tmp_path / "proj"
        root.mkdir(exist_ok=True)
        if ci is not None:
            (root / ".gitlab-ci.yml").write_text(textwrap.dedent(ci))
        for name, text in (files or {}).items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        if use_git:
            git(root, "init", "-q", "-b", "main")
            git(root, "add", "-A")
            git(root, "commit", "-q", "-m", "initial commit")
        return root

    return make


def load(root: Path, **options: Any) -> Pipeline:
    return load_gitlab(root / ".gitlab-ci.yml", LoadOptions(root=root, **options))


def run(
    root: Path,
    jobs: Sequence[str] = (),
    *,
    settings: RunSettings | None = None,
    events: list[Any] | None = None,
    **options: Any,
) -> PipelineRun:
    pipeline = load(root, **options)
    plan = plan_pipeline(pipeline, jobs)
    subscribers = [events.append] if events is not None else []
    return asyncio.run(run_pipeline(plan, settings or RunSettings(), subscribers=subscribers))


def statuses(result: PipelineRun) -> dict[str, str]:
    return {name: rec.status.value for name, rec in result.records.items()}


def log_text(result: PipelineRun, job: str) -> str:
    path = result.records[job].log_path
    assert path is not None
    return path.read_text()


@pytest.fixture(scope="session")
def docker_host() -> Iterator[str]:
    """DOCKER_HOST of a private dockerd with the busybox test image (skips with the reason)."""
    from .dockerd import DockerUnavailable, private_dockerd

    try:
        with private_dockerd() as host:
            yield host
    except DockerUnavailable as exc:
        pytest.skip(f"docker executor tests need a dockerd: {exc}")
