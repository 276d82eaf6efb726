"""Malformed files of every shape: each front-end loads them or answers with a
PipelineError naming the file, never another exception (cases: malformed_cases.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.formats import LoadOptions, frontend

FILES = {
    "github": ".github/workflows/f.yml",
    "circleci": ".circleci/config.yml",
    "jenkins": "Jenkinsfile",
}
CASES = yaml.safe_load((Path(__file__).parent / "malformed_cases.yaml").read_text())


@pytest.mark.parametrize(
    ("fmt", "text"), [(fmt, text) for fmt, texts in CASES.items() for text in texts]
)
def test_malformed_input_never_escapes_as_a_traceback(tmp_path: Path, fmt: str, text: str) -> None:
    path = tmp_path / FILES[fmt]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    error = None
    try:
        frontend(fmt).load(path, LoadOptions(root=tmp_path))
    except PipelineError as exc:
        error = str(exc)
    assert error is None or error.startswith(FILES[fmt])


@pytest.mark.parametrize(
    ("fmt", "text", "message"),
    [
        (
            "github",
            "jobs: {a: {runs-on: linux, strategy: 3, steps: [{run: x}]}}",
            "strategy must be a mapping",
        ),
        (
            "github",
            "jobs: {a: {runs-on: linux, outputs: 3, steps: [{run: x}]}}",
            "outputs must be a mapping",
        ),
        (
            "github",
            "jobs: {a: {runs-on: linux, services: 3, steps: [{run: x}]}}",
            "services must be a mapping",
        ),
        ("github", "jobs: {a: {runs-on: [], steps: [{run: x}]}}", "runs-on is required"),
        (
            "github",
            "defaults: 3\njobs: {a: {runs-on: linux, steps: [{run: x}]}}",
            "defaults must be a mapping",
        ),
        (
            "github",
            "on: 5\njobs: {a: {runs-on: linux, steps: [{run: x}]}}",
            "on: must be an event name, a list or a mapping",
        ),
        ("jenkins", "pipeline { stages { stage('a') { steps } } }", "steps needs a { } block"),
        (
            "circleci",
            "version: 2.1\njobs: {a: {steps: [{restore_cache: {keys: 3}}]}}\n"
            "workflows: {w: {jobs: [a]}}",
            "restore_cache keys: must be a list",
        ),
    ],
)
def test_wrong_shapes_are_named(tmp_path: Path, fmt: str, text: str, message: str) -> None:
    path = tmp_path / FILES[fmt]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    with pytest.raises(PipelineError, match=message.replace("{", "\\{").replace("}", "\\}")):
        frontend(fmt).load(path, LoadOptions(root=tmp_path))
