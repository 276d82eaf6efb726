"""Native pipelines: ``opsforge-pipeline.yml`` (GitLab's keywords plus inputs, cache_dirs,
typed secrets and built-in steps) and ``opsforge_pipeline.py`` (decorated functions)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsforge.pipelines.formats import Frontend, LoadOptions
from opsforge.pipelines.model import Pipeline
from opsforge.pipelines.native.yamlfile import NativeLoader

if TYPE_CHECKING:
    from opsforge.pipelines.native.pyapi import JobSpec, job

__all__ = ["FRONTEND", "JobSpec", "detect", "job", "load_native"]

NAMES = ("opsforge-pipeline.yml", "opsforge-pipeline.yaml", "opsforge_pipeline.py")


def detect(path: Path) -> bool:
    return path.name in NAMES or path.name.endswith((".opsforge.yml", ".opsforge.yaml"))


def __getattr__(name: str) -> Any:
    """The Python API loads on first use (detecting a YAML file does not need it)."""
    if name in ("JobSpec", "job"):
        from opsforge.pipelines.native import pyapi

        return getattr(pyapi, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_native(path: Path, options: LoadOptions) -> Pipeline:
    if path.suffix == ".py":
        from opsforge.pipelines.native.pyapi import load_python_pipeline

        return load_python_pipeline(path, options)
    return NativeLoader(path, options).load()


FRONTEND = Frontend(
    name="native",
    order=10,
    default_paths=NAMES,
    detect=detect,
    load=load_native,
    description="opsforge's own pipelines (YAML or Python)",
    inputs="spec:inputs",
)
