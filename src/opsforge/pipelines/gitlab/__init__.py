"""The GitLab CI front-end: ``.gitlab-ci.yml`` (and includes) → the pipeline model.

See docs/pipelines.md for what is supported; the pieces: :mod:`.yamlsource` (YAML with
lines, anchors, ``!reference``), :mod:`.includes`, :mod:`.configs` (extends, default),
:mod:`.rules` and :mod:`.expr` (rules, only/except, workflow), :mod:`.keywords`,
:mod:`.predefined` (``CI_*``), :mod:`.loader`.
"""

from __future__ import annotations

from pathlib import Path

from opsforge.pipelines.formats import Frontend
from opsforge.pipelines.gitlab.loader import load_gitlab

__all__ = ["FRONTEND", "detect", "load_gitlab"]


def detect(path: Path) -> bool:
    name = path.name
    if name.endswith((".gitlab-ci.yml", ".gitlab-ci.yaml")) or name in (
        ".gitlab-ci.yml",
        "gitlab-ci.yml",
    ):
        return True
    if path.suffix not in (".yml", ".yaml") or ".github" in path.parts or ".circleci" in path.parts:
        return False
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
    except OSError:
        return False
    return (
        any(marker in head for marker in ("\nstages:", "script:", "\ninclude:"))
        and "runs-on:" not in head
    )


FRONTEND = Frontend(
    name="gitlab",
    order=20,
    default_paths=(".gitlab-ci.yml",),
    detect=detect,
    load=load_gitlab,
    description="GitLab CI (.gitlab-ci.yml)",
    inputs="spec:inputs",
)
