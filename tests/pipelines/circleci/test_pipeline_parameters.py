"""CircleCI pipeline parameters (``LoadOptions.inputs`` / ``--input``): declared types,
defaults and enums, table-driven; valid values really reach a step."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.records import JobStatus

from ..github.conftest import git, load, log_of, run

CONFIG = """\
version: 2.1
parameters:
  count:
    type: integer
    default: 1
  mode:
    type: enum
    enum: [fast, slow]
    default: fast
  deploy:
    type: boolean
    default: false
  label:
    type: string
    default: plain
jobs:
  show:
    machine: true
    steps:
      - run: >-
          echo "count=<< pipeline.parameters.count >> mode=<< pipeline.parameters.mode >>
          label=<< pipeline.parameters.label >>"
      - when:
          condition: << pipeline.parameters.deploy >>
          steps:
            - run: echo deploying
workflows:
  ci:
    jobs: [show]
"""


def _config(repo: Path, text: str = CONFIG) -> Path:
    path = repo / ".circleci" / "config.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "config")
    return path


VALID = [
    ({}, "count=1 mode=fast label=plain", False),
    ({"count": "3", "mode": "slow", "label": "a b"}, "count=3 mode=slow label=a b", False),
    ({"deploy": "true"}, "count=1 mode=fast", True),
    ({"deploy": "False", "count": "-2"}, "count=-2 mode=fast", False),
]


@pytest.mark.parametrize(("given", "expected", "deploys"), VALID)
def test_valid_parameters_reach_the_steps(
    repo: Path, given: dict[str, str], expected: str, deploys: bool
) -> None:
    path = _config(repo)
    result = run(repo, load(repo, path, "circleci", inputs=given))
    record = result.records["show"]
    assert record.status is JobStatus.SUCCESS, record.message
    log = log_of(record)
    assert expected in log
    assert ("deploying" in log) == deploys


INVALID = [
    ({"count": "many"}, 3, "pipeline parameter 'count' must be an integer, not 'many'"),
    ({"count": "1.5"}, 3, "must be an integer"),
    ({"mode": "medium"}, 6, "pipeline parameter 'mode' must be one of fast, slow, not 'medium'"),
    ({"deploy": "yes"}, 10, "pipeline parameter 'deploy' must be a boolean"),
    ({"nope": "1"}, 2, "pipeline: unknown parameter 'nope' (declared: count, mode, deploy, label)"),
]


@pytest.mark.parametrize(("given", "line", "words"), INVALID)
def test_invalid_parameters_are_errors_at_the_declaration(
    repo: Path, given: dict[str, str], line: int, words: str
) -> None:
    path = _config(repo)
    with pytest.raises(PipelineError) as caught:
        load(repo, path, "circleci", inputs=given)
    assert caught.value.path == ".circleci/config.yml"
    assert caught.value.line == line
    assert words in str(caught.value)


def test_a_parameter_without_default_must_be_given(repo: Path) -> None:
    no_default = CONFIG.replace("    type: string\n    default: plain\n", "    type: string\n")
    path = _config(repo, no_default)
    with pytest.raises(PipelineError, match="missing required parameter 'label'"):
        load(repo, path, "circleci")
    result = run(repo, load(repo, path, "circleci", inputs={"label": "given"}))
    assert "label=given" in log_of(result.records["show"])


def test_an_undeclared_pipeline_parameter_reference_is_an_error(repo: Path) -> None:
    undeclared = CONFIG.replace("pipeline.parameters.label", "pipeline.parameters.nope")
    path = _config(repo, undeclared)
    with pytest.raises(PipelineError, match=r"pipeline.parameters.nope >> is not defined") as err:
        load(repo, path, "circleci")
    assert err.value.line == 20
