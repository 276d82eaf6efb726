"""The pipeline model and the front-end registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.errors import UsageError
from opsforge.pipelines.formats import LoadOptions, available_formats, frontend, load_pipeline
from opsforge.pipelines.model import (
    AllowFailure,
    Job,
    Need,
    Pipeline,
    SourceLocation,
    Step,
    Variable,
)
from opsforge.types import Secret


def test_secrets_collects_masked_and_secret_values_longest_first() -> None:
    job = Job(
        name="a",
        variables={"A": Variable("plain"), "B": Variable("s3cret", masked=True)},
        steps=(Step(run="true", env={"C": Secret("longer-secret")}),),
    )
    pipe = Pipeline(
        name="p", format="native", source=SourceLocation("p.yml"), root=Path("."), jobs=(job,)
    )
    assert pipe.secrets() == ("longer-secret", "s3cret")
    assert pipe.job("a") is job
    with pytest.raises(KeyError):
        pipe.job("nope")


def test_allow_failure_exit_codes() -> None:
    assert not AllowFailure().allows(1)
    assert AllowFailure(True).allows(3)
    assert AllowFailure(True, (3,)).allows(3)
    assert not AllowFailure(True, (3,)).allows(1)


def test_need_names_and_label() -> None:
    job = Job(name="b", needs=(Need("a"), Need("c", optional=True)))
    assert job.need_names() == ("a", "c")
    assert Step(run="echo hi\necho there").label == "echo hi"
    assert str(SourceLocation("x.yml", 3)) == "x.yml:3"


def test_unknown_format_is_a_usage_error() -> None:
    assert "gitlab" in available_formats()
    with pytest.raises(UsageError, match="unknown pipeline format 'nope'"):
        frontend("nope")


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such pipeline file"):
        load_pipeline(tmp_path / "missing.yml", LoadOptions(root=tmp_path))
