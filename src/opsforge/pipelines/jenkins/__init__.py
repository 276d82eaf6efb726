"""Declarative Jenkinsfiles (the subset opsforge runs locally): format ``jenkins``."""

from __future__ import annotations

from pathlib import Path

from opsforge.pipelines.formats import Frontend, LoadOptions
from opsforge.pipelines.model import Pipeline

__all__ = ["FRONTEND", "load"]


def detect(path: Path) -> bool:
    """A file named ``Jenkinsfile`` (or ``*.jenkinsfile``/``*.groovy``) with a pipeline or node."""
    if path.name == "Jenkinsfile" or path.suffix in (".jenkinsfile", ".Jenkinsfile"):
        return True
    if path.suffix != ".groovy":
        return False
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:20000]
    except OSError:
        return False
    return "pipeline {" in head or "node {" in head or "node(" in head


def load(path: Path, options: LoadOptions) -> Pipeline:
    from opsforge.pipelines.jenkins.declarative import load_jenkinsfile

    return load_jenkinsfile(path, options)


FRONTEND = Frontend(
    name="jenkins",
    order=50,
    default_paths=("Jenkinsfile",),
    detect=detect,
    load=load,
    description="declarative Jenkinsfiles (the subset in docs/pipelines.md)",
    inputs="parameters",
)
