"""Errors of the pipelines domain (subclasses of the tree in :mod:`opsforge.errors`)."""

from __future__ import annotations

from opsforge.errors import InputError, PlanError

__all__ = ["ExpressionError", "PipelineError", "PipelinePlanError"]


class _AboutJob(InputError):
    """An input error that may name the job it is about (``job 'x': ...``)."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        job: str | None = None,
    ) -> None:
        super().__init__(f"job {job!r}: {message}" if job else message, path=path, line=line)
        self.job = job


class PipelineError(_AboutJob):
    """A pipeline file is wrong: YAML syntax, unknown keyword, bad value, missing include.

    Carries ``path``/``line`` (file:line) and, where known, the ``job`` it is about.
    """


class ExpressionError(PipelineError):
    """A condition/expression (rules:if, ``${{ }}``, when expression) has a syntax error."""


class PipelinePlanError(_AboutJob, PlanError):
    """The job graph cannot run: a cycle in needs, a need on a missing job."""
