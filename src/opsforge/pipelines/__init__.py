"""CI/CD pipelines: one typed model (:mod:`.model`), front-ends per format (:mod:`.formats`),
a planner that turns the model into an engine plan, and the job runner.

``opsforge pipeline run|list|graph|explain`` is the command line; see docs/pipelines.md.
"""

from __future__ import annotations

from opsforge.pipelines.errors import ExpressionError, PipelineError, PipelinePlanError
from opsforge.pipelines.formats import Frontend, LoadOptions, load_pipeline
from opsforge.pipelines.model import Job, Need, Pipeline, Step, When

__all__ = [
    "ExpressionError",
    "Frontend",
    "Job",
    "LoadOptions",
    "Need",
    "Pipeline",
    "PipelineError",
    "PipelinePlanError",
    "Step",
    "When",
    "load_pipeline",
]
