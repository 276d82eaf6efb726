"""``opsforge pipeline export``: write a pipeline (usually a native one) as another
system's file, so a team defines its pipeline once.

========== ================================ ==========================================
 target     default file                     importer for a round-trip check
========== ================================ ==========================================
 gitlab     ``.gitlab-ci.yml``               gitlab
 github     ``.github/workflows/ci.yml``     github
 circleci   ``.circleci/config.yml``         circleci
 jenkins    ``Jenkinsfile``                  jenkins
========== ================================ ==========================================

What a target cannot express is named in the warnings (a retry CircleCI does not have,
a Jenkins stage that now waits for every earlier stage, ...). :func:`graph_signature`
compares job graphs across systems' naming conventions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from opsforge.errors import UsageError
from opsforge.pipelines.export.circleci import to_circleci
from opsforge.pipelines.export.github import to_github
from opsforge.pipelines.export.gitlab import to_gitlab
from opsforge.pipelines.export.graph import graph_signature
from opsforge.pipelines.export.jenkins import to_jenkins
from opsforge.pipelines.model import Pipeline

__all__ = ["TARGETS", "Exported", "default_path", "export_pipeline", "graph_signature"]

_WRITERS: dict[str, Callable[[Pipeline, list[str]], str]] = {
    "gitlab": to_gitlab,
    "github": to_github,
    "circleci": to_circleci,
    "jenkins": to_jenkins,
}
TARGETS = tuple(_WRITERS)


@dataclass(frozen=True, slots=True)
class Exported:
    target: str
    text: str
    warnings: tuple[str, ...]


def default_path(target: str, pipeline: Pipeline) -> Path:
    """Where the target system looks for its file, relative to the project root."""
    return {
        "gitlab": Path(".gitlab-ci.yml"),
        "github": Path(".github/workflows/ci.yml"),
        "circleci": Path(".circleci/config.yml"),
        "jenkins": Path("Jenkinsfile"),
    }[target]


def export_pipeline(pipeline: Pipeline, target: str) -> Exported:
    """``pipeline`` as ``target``'s file text, with what could not be carried over."""
    writer = _WRITERS.get(target)
    if writer is None:
        raise UsageError(f"unknown export target {target!r}; targets: {', '.join(TARGETS)}")
    warnings: list[str] = []
    for job in pipeline.jobs:
        if any(step.prepare is not None for step in (*job.before_steps, *job.steps)):
            warnings.append(
                f"{job.name}: its steps are decided at run time in "
                f"{pipeline.format} (expressions); written as they are in the file"
            )
    text = writer(pipeline, warnings)
    return Exported(target, text, tuple(dict.fromkeys(warnings)))
