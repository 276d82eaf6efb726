"""A throwaway git project per test, and helpers to load and really run a workflow."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from opsforge.pipelines.formats import LoadOptions, frontend
from opsforge.pipelines.model import Pipeline
from opsforge.pipelines.planner import plan_pipeline
from opsforge.pipelines.records import JobRecord
from opsforge.pipelines.run import PipelineRun, run_pipeline
from opsforge.pipelines.runstate import RunSettings
from opsforge.types import Secret


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / ".github" / "workflows").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.invalid")
    git(root, "config", "user.name", "t")
    (root / "README").write_text("hello\n")
    git(root, "add", "README")
    git(root, "commit", "-q", "-m", "init")
    return root


def write_workflow(root: Path, text: str, name: str = "ci.yml") -> Path:
    path = root / ".github" / "workflows" / name
    path.write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", f"workflow {name}")
    return path


def load(root: Path, path: Path, fmt: str = "github", **options: object) -> Pipeline:
    return frontend(fmt).load(path, LoadOptions(root=root, **options))  # type: ignore[arg-type]


def run(
    root: Path,
    pipeline: Pipeline,
    jobs: tuple[str, ...] = (),
    secrets: Mapping[str, str] | None = None,
) -> PipelineRun:
    plan = plan_pipeline(pipeline, jobs)
    settings = RunSettings(run_dir=root.parent / "run", cache_dir=root.parent / "cache")
    return asyncio.run(run_pipeline(plan, settings, secrets=list((secrets or {}).values())))


def log_of(record: JobRecord) -> str:
    assert record.log_path is not None
    return record.log_path.read_text()


def secrets(**values: str) -> dict[str, Secret]:
    return {k: Secret(v) for k, v in values.items()}
