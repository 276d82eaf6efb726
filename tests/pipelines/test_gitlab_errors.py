"""Bad GitLab CI input: each error names file, line and job, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.errors import UsageError
from opsforge.pipelines.errors import ExpressionError, PipelineError, PipelinePlanError
from opsforge.pipelines.gitlab.includes import MissingIncludes
from opsforge.pipelines.planner import plan_pipeline

from .conftest import ProjectFactory, load


@pytest.mark.parametrize(
    ("ci", "error", "match"),
    [
        ("a:\n  script: [echo\n", PipelineError, r"\.gitlab-ci\.yml:\d+: YAML syntax error"),
        (
            "a:\n  script: echo\n  scrpt: x\n",
            PipelineError,
            r":3: job 'a': unknown keyword 'scrpt'",
        ),
        ("a:\n  stage: build\n", PipelineError, r":1: job 'a': has no script"),
        ("a:\n  script: x\n  when: later\n", PipelineError, r":3: job 'a': unknown when 'later'"),
        ("a:\n  script: x\n  stage: nope\n", PipelineError, r":3: job 'a': chooses stage 'nope'"),
        ("a:\n  script: x\n  retry: 5\n", PipelineError, r"retry max must be 0, 1 or 2"),
        ("a:\n  script: x\n  timeout: soon\n", PipelineError, r":3: job 'a': not a duration"),
        ("a:\n  extends: .nope\n  script: x\n", PipelineError, r":2: job 'a': extends '.nope'"),
        (
            ".x: {extends: .y}\n.y: {extends: .x}\na: {extends: .x, script: s}\n",
            PipelineError,
            r"extends forms a loop",
        ),
        ("stray: 42\n", PipelineError, r":1: 'stray' is neither a known keyword nor a job"),
        (
            "a:\n  script: x\n  rules:\n    - if: $A == \n",
            ExpressionError,
            r":4: job 'a': expression ends too early",
        ),
        (
            "a:\n  script: x\n  rules:\n    - if: $A === 'x'\n",
            ExpressionError,
            r"job 'a': unexpected character at column 6",
        ),
        ("a:\n  script: x\n  rules:\n    - iff: $A\n", PipelineError, r"unknown keyword 'iff'"),
        ("a:\n  script: !reference [.nope, script]\n", PipelineError, r":2: !reference"),
    ],
)
def test_bad_files_are_errors_with_file_and_line(
    project: ProjectFactory, ci: str, error: type[Exception], match: str
) -> None:
    root = project(ci)
    with pytest.raises(error, match=match):
        load(root)


def test_cycle_in_needs_names_the_jobs_and_line(project: ProjectFactory) -> None:
    root = project(
        "a: {script: x, needs: [c]}\nb: {script: x, needs: [a]}\nc: {script: x, needs: [b]}\n"
    )
    with pytest.raises(
        PipelinePlanError, match=r"\.gitlab-ci\.yml:\d+: job '.': needs form a cycle: "
    ):
        plan_pipeline(load(root))


def test_need_on_a_missing_job(project: ProjectFactory) -> None:
    root = project("a: {script: x}\nb:\n  script: x\n  needs: [ghost]\n")
    with pytest.raises(PipelinePlanError, match=r":2: job 'b': needs 'ghost', which is not a job"):
        plan_pipeline(load(root))


def test_need_on_an_excluded_job_suggests_optional(project: ProjectFactory) -> None:
    root = project(
        "a: {script: x, rules: [{when: never}]}\nb: {script: x, needs: [a]}\n"
        "c: {script: x, needs: [{job: a, optional: true}]}\n"
    )
    with pytest.raises(PipelinePlanError, match="optional: true"):
        plan_pipeline(load(root))


def test_optional_need_on_an_excluded_job_is_dropped(project: ProjectFactory) -> None:
    root = project(
        "a: {script: x, rules: [{when: never}]}\n"
        "c: {script: x, needs: [{job: a, optional: true}]}\n"
    )
    plan = plan_pipeline(load(root))
    assert plan["c"].deps == ()


def test_unknown_job_on_the_command_line(project: ProjectFactory) -> None:
    root = project("build: {script: x}\n")
    with pytest.raises(UsageError, match="no job named 'buld'"):
        plan_pipeline(load(root), ["buld"])


def test_missing_includes_are_listed_together(project: ProjectFactory) -> None:
    root = project(
        """
        include:
          - remote: https://example.invalid/ci/base.yml
          - project: group/tools
            file: /templates/lint.yml
          - template: Security/SAST.gitlab-ci.yml
          - component: example.invalid/group/comp@1.0
        a: {script: x}
        """
    )
    with pytest.raises(MissingIncludes) as info:
        load(root)
    text = str(info.value)
    assert "4 include(s)" in text
    for what in ("remote https://", "project group/tools", "template Security", "component"):
        assert what in text
    # --allow-missing-includes runs the rest, with a warning each
    pipeline = load(root, allow_missing_includes=True)
    assert pipeline.job_names == ("a",)
    assert len(pipeline.warnings) == 4


def test_missing_local_include(project: ProjectFactory) -> None:
    root = project("include: ci/missing.yml\na: {script: x}\n")
    with pytest.raises(PipelineError, match=r":1: include local 'ci/missing.yml'"):
        load(root)


def test_missing_file_argument(tmp_path: Path) -> None:
    from opsforge.pipelines.formats import LoadOptions, load_pipeline

    with pytest.raises(UsageError, match="no pipeline file found"):
        load_pipeline(None, LoadOptions(root=tmp_path))


def test_unsupported_keywords_warn_and_strict_makes_them_errors(project: ProjectFactory) -> None:
    root = project("a:\n  script: x\n  id_tokens: {T: {aud: x}}\n")
    pipeline = load(root)
    assert pipeline.warnings[0][0] == "job a: id_tokens is not supported locally (ignored)"
    assert str(pipeline.warnings[0][1]) == ".gitlab-ci.yml:3"
    with pytest.raises(PipelineError, match=r":3: job a: id_tokens is not supported.*--strict"):
        load(root, strict=True)
