"""CircleCI 2.1 configs (``.circleci/config.yml``) as pipelines: format ``circleci``."""

from __future__ import annotations

from pathlib import Path

from opsforge.pipelines.formats import Frontend, LoadOptions
from opsforge.pipelines.model import Pipeline

__all__ = ["FRONTEND", "load"]


def detect(path: Path) -> bool:
    """``.circleci/config.yml``, or YAML with ``version: 2.1`` and ``workflows:``/``jobs:``."""
    if path.suffix not in (".yml", ".yaml"):
        return False
    if path.parent.name == ".circleci":
        return True
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:20000]
    except OSError:
        return False
    text = f"\n{head}"
    return (
        "\nversion: 2" in text
        and ("\nworkflows:" in text or "\njobs:" in text)
        and ("runs-on:" not in head)
    )


def load(path: Path, options: LoadOptions) -> Pipeline:
    from opsforge.pipelines.circleci.config import load_config
    from opsforge.pipelines.github import cache_steps  # noqa: F401  (registers the step types)

    return load_config(path, options)


FRONTEND = Frontend(
    name="circleci",
    order=40,
    default_paths=(".circleci/config.yml", ".circleci/config.yaml"),
    detect=detect,
    load=load,
    description="CircleCI 2.1 configs (.circleci/config.yml)",
    inputs="pipeline parameters",
)
