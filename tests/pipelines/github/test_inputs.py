"""Workflow inputs (``LoadOptions.inputs`` / ``--input``): declared types, defaults and
required inputs, table-driven; valid values really reach a step, in their type."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.records import JobStatus

from .conftest import load, log_of, run, write_workflow

WORKFLOW = """\
on:
  workflow_dispatch:
    inputs:
      flag:
        type: boolean
        default: false
      count:
        type: number
        default: 2
      level:
        type: choice
        options: [low, high]
        default: low
      name:
        type: string
        required: true
  workflow_call:
    inputs:
      shared:
        type: string
        default: from-call
jobs:
  show:
    runs-on: ubuntu-latest
    steps:
      - run: >-
          echo "flag=${{ inputs.flag }} count=${{ inputs.count }} level=${{ inputs.level }}
          name=${{ inputs.name }} shared=${{ inputs.shared }} event=${{ github.event.inputs.flag }}
          json=${{ toJSON(inputs.flag) }}"
      - if: inputs.flag
        run: echo flag-step-ran
      - if: inputs.count > 2
        run: echo count-above-two
"""

VALID = [
    (
        {"name": "x"},
        "flag=false count=2 level=low name=x shared=from-call event=false json=false",
        [],
    ),
    (
        {"name": "a b", "flag": "true", "count": "3.5", "level": "high"},
        "flag=true count=3.5 level=high name=a b shared=from-call event=true json=true",
        ["flag-step-ran", "count-above-two"],
    ),
    ({"name": "x", "flag": "FALSE", "count": "10"}, "flag=false count=10", ["count-above-two"]),
    (
        {"name": "x", "count": "-1e1", "shared": "given"},
        "count=-10 level=low name=x shared=given",
        [],
    ),
]


@pytest.mark.parametrize(("given", "expected", "steps"), VALID)
def test_valid_inputs_reach_the_steps_typed(
    repo: Path, given: dict[str, str], expected: str, steps: list[str]
) -> None:
    path = write_workflow(repo, WORKFLOW)
    result = run(repo, load(repo, path, event="workflow_dispatch", inputs=given))
    record = result.records["show"]
    assert record.status is JobStatus.SUCCESS, record.message
    log = log_of(record)
    assert expected in log
    for marker in ("flag-step-ran", "count-above-two"):
        assert (marker in log) == (marker in steps)


# (given, event, line of the declaration the error names, words of the message)
INVALID = [
    ({}, "workflow_dispatch", 14, "input 'name' (on.workflow_dispatch) is required"),
    ({}, "push", 14, "give it: --input name=VALUE"),  # push is not a trigger of this file
    ({"name": "x", "flag": "yes"}, "workflow_dispatch", 4, "'yes' is not true or false"),
    ({"name": "x", "count": "ten"}, "workflow_dispatch", 7, "'ten' is not a number"),
    ({"name": "x", "count": "nan"}, "workflow_dispatch", 7, "is not a finite number"),
    (
        {"name": "x", "level": "mid"},
        "workflow_dispatch",
        10,
        "'mid' is not one of the options: low, high",
    ),
    ({"name": "x", "other": "1"}, "workflow_dispatch", 1, "input 'other' is not declared"),
]


@pytest.mark.parametrize(("given", "event", "line", "words"), INVALID)
def test_invalid_inputs_are_errors_at_the_declaration(
    repo: Path, given: dict[str, str], event: str, line: int, words: str
) -> None:
    path = write_workflow(repo, WORKFLOW)
    with pytest.raises(PipelineError) as caught:
        load(repo, path, event=event, inputs=given)
    assert caught.value.path == ".github/workflows/ci.yml"
    assert caught.value.line == line
    assert words in str(caught.value)


BAD_DECLARATIONS = [
    ("x:\n        type: number\n        default: abc", 4, "default 'abc' is not a number"),
    ("x:\n        type: float", 4, "unknown type 'float'"),
    ("x:\n        type: choice", 4, "type choice needs a list of options"),
    ("x:\n        type: choice\n        options: [a]\n        default: b", 4, "one of the options"),
    ("x: [1]", 4, "a declaration is a mapping"),
]


@pytest.mark.parametrize(("declaration", "line", "words"), BAD_DECLARATIONS)
def test_bad_declarations_are_errors(repo: Path, declaration: str, line: int, words: str) -> None:
    text = (
        "on:\n  workflow_dispatch:\n    inputs:\n      "
        + declaration
        + "\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo a\n"
    )
    path = write_workflow(repo, text)
    with pytest.raises(PipelineError) as caught:
        load(repo, path, event="workflow_dispatch")
    assert caught.value.line == line
    assert words in str(caught.value)


def test_required_input_is_optional_for_another_trigger(repo: Path) -> None:
    path = write_workflow(
        repo,
        """\
on:
  push:
  workflow_dispatch:
    inputs:
      target: {required: true}
jobs:
  a:
    runs-on: ubuntu-latest
    if: inputs.target == ''
    steps:
      - run: echo "target=[${{ inputs.target }}]"
""",
    )
    result = run(repo, load(repo, path, event="push"))
    assert "target=[]" in log_of(result.records["a"])
    # the job if: is decided at load time from the given input
    pipeline = load(repo, path, event="workflow_dispatch", inputs={"target": "prod"})
    assert [e.name for e in pipeline.excluded] == ["a"]
