"""Native pipelines: YAML with opsforge's extras, and the Python API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.formats import LoadOptions, find_pipeline_file, load_pipeline
from opsforge.pipelines.model import Pipeline
from opsforge.pipelines.planner import plan_pipeline
from opsforge.pipelines.run import PipelineRun, run_pipeline
from opsforge.pipelines.runstate import RunSettings
from opsforge.types import Secret

from .conftest import ProjectFactory


def load_native(root: Path, name: str = "opsforge-pipeline.yml", **options: object) -> Pipeline:
    return load_pipeline(root / name, LoadOptions(root=root, **options))  # type: ignore[arg-type]


def run_native(
    root: Path, jobs: tuple[str, ...] = (), name: str = "opsforge-pipeline.yml", **options: object
) -> PipelineRun:
    plan = plan_pipeline(load_native(root, name, **options), jobs)
    return asyncio.run(run_pipeline(plan, RunSettings()))


def log(result: PipelineRun, job: str) -> str:
    path = result.records[job].log_path
    assert path is not None
    return path.read_text()


def test_native_yaml_is_detected_first_and_runs(project: ProjectFactory) -> None:
    root = project(
        "gitlab: {script: [echo gitlab]}\n",
        files={"opsforge-pipeline.yml": "native: {script: [echo native]}\n"},
    )
    path, frontend = find_pipeline_file(root)
    assert path.name == "opsforge-pipeline.yml"
    assert frontend.name == "native"
    assert "native" in log(run_native(root), "native")


def test_inputs_make_unchanged_jobs_cached(project: ProjectFactory, tmp_path: Path) -> None:
    counter = tmp_path / "count"
    root = project(
        files={
            "opsforge-pipeline.yml": f"""
                compile:
                  inputs: ["src/**/*.c"]
                  script: [echo x >> {counter}]
                """,
            "src/main.c": "int main;\n",
        }
    )
    assert run_native(root).records["compile"].status.value == "success"
    again = run_native(root)
    assert again.records["compile"].status.value == "cached"
    assert "up to date" in again.records["compile"].message
    (root / "src" / "main.c").write_text("int main(void);\n")
    assert run_native(root).records["compile"].status.value == "success"
    assert len(counter.read_text().split()) == 2


def test_named_cache_dirs_persist(project: ProjectFactory) -> None:
    root = project(
        files={
            "opsforge-pipeline.yml": """
                fill:
                  cache_dirs: [pip]
                  script:
                    - 'if [ -f "$OPSFORGE_CACHE_DIR_PIP/w" ]; then echo warm; else echo cold; fi'
                    - touch "$OPSFORGE_CACHE_DIR_PIP/w"
                """
        }
    )
    assert "cold" in log(run_native(root), "fill")
    assert "warm" in log(run_native(root), "fill")


def test_typed_secrets(
    project: ProjectFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyfile = tmp_path / "key"
    keyfile.write_text("file-secret-value\n")
    monkeypatch.setenv("SRC_TOKEN", "env-secret-value")
    root = project(
        files={
            "opsforge-pipeline.yml": f"""
                secrets:
                  TOKEN: {{env: SRC_TOKEN}}
                  KEY: {{file: {keyfile}}}
                  PASSWORD: {{cli: true}}
                show:
                  script: [echo "$TOKEN $KEY $PASSWORD"]
                """
        }
    )
    with pytest.raises(
        PipelineError, match=r"opsforge-pipeline.yml:5: secret PASSWORD is required"
    ):
        load_native(root)
    result = run_native(root, secrets={"PASSWORD": Secret("cli-secret-value")})
    text = log(result, "show")
    assert "*** *** ***" in text
    assert "secret-value" not in text
    monkeypatch.delenv("SRC_TOKEN")
    with pytest.raises(PipelineError, match="environment variable SRC_TOKEN is not set"):
        load_native(root, secrets={"PASSWORD": Secret("x")})


def test_builtin_steps_upload_download_and_deploy(project: ProjectFactory, tmp_path: Path) -> None:
    target = tmp_path / "made-by-deploy"
    root = project(
        files={
            "deploy.py": f"""
                from opsforge.deploy import files

                def deploy(host):
                    files.directory(host, "{target}", mode="0755")
                """,
            "opsforge-pipeline.yml": """
                build:
                  stage: build
                  steps:
                    - mkdir -p out && echo payload > out/file.txt
                    - upload_artifact: {name: bundle, path: out/}
                use:
                  stage: test
                  steps:
                    - download_artifact: {name: bundle, path: got}
                    - cat got/out/file.txt
                ship:
                  stage: deploy
                  steps:
                    - deploy: {file: deploy.py, inventory: "@local"}
                """,
        }
    )
    result = run_native(root)
    assert result.exit_code == 0, {n: log(result, n) for n in result.records}
    assert "payload" in log(result, "use")
    assert target.is_dir()
    assert "changed" in log(result, "ship")


def test_unknown_step_type_is_an_error(project: ProjectFactory) -> None:
    root = project(files={"opsforge-pipeline.yml": "a:\n  steps:\n    - teleport: {}\n"})
    with pytest.raises(PipelineError, match=r":3: job 'a': unknown step type 'teleport'"):
        load_native(root)


PY_PIPELINE = """
from opsforge.pipelines.native import job


@job(stage="build", artifacts=["dist/"])
def build(ctx):
    ctx.sh("mkdir -p dist && echo wheel > dist/pkg.whl")


@job(stage="test", needs=["build"], matrix={"py": ["3.11", "3.12"], "os": ["linux"]})
def test(ctx, py, os):
    ctx.sh(f"cat dist/pkg.whl && echo testing {py} on {os}")


@job(stage="test", needs=[], allow_failure=True)
def lint(ctx):
    ctx.sh("exit 4")
"""


def test_python_api_jobs_matrix_and_failures(project: ProjectFactory) -> None:
    root = project(files={"opsforge_pipeline.py": PY_PIPELINE})
    pipeline = load_native(root, "opsforge_pipeline.py")
    assert pipeline.job_names == ("build", "test: [3.11, linux]", "test: [3.12, linux]", "lint")
    result = run_native(root, name="opsforge_pipeline.py")
    assert result.exit_code == 0
    assert "testing 3.12 on linux" in log(result, "test: [3.12, linux]")
    assert "wheel" in log(result, "test: [3.11, linux]")
    lint = result.records["lint"]
    assert lint.exit_code == 4
    assert lint.allowed_failure


def test_python_pipeline_errors_name_the_line(project: ProjectFactory) -> None:
    root = project(files={"opsforge_pipeline.py": "x = 1\ndef broken(:\n    pass\n"})
    with pytest.raises(PipelineError, match=r"opsforge_pipeline.py:2: Python syntax error"):
        load_native(root, "opsforge_pipeline.py")
