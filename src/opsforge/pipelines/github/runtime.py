"""The contexts an expression sees while a job runs, built from the runner's view.

:class:`JobContext` is fixed when the workflow loads (github, vars, secrets, inputs,
matrix, strategy, runner, the job's env); :meth:`JobContext.scope` adds what only the
run knows: ``needs`` (results and outputs of the jobs waited for, by job id),
``steps`` (outcome/conclusion/outputs of finished steps), the env after ``GITHUB_ENV``
files, the workspace and the job's status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsforge.pipelines.github.expr_eval import Scope
from opsforge.pipelines.model import RuntimeView

__all__ = ["JobContext", "needs_status"]

_FAILED = ("failure", "failed", "timed_out", "timeout", "error")


def _result(status: str) -> str:
    """A runner status as GitHub's ``needs.<id>.result``."""
    low = status.lower()
    if low in ("success", "ok", "passed", "allowed_failure"):
        return "success"
    if low in _FAILED:
        return "failure"
    if low in ("cancelled", "interrupted"):
        return "cancelled"
    return "skipped"


def needs_status(results: list[str], cancelled: bool) -> str:
    """The status a job-level ``if:`` sees: cancelled, failure (a need failed),
    skipped (a need was skipped: neither success() nor failure()), or success."""
    if cancelled:
        return "cancelled"
    if any(r in ("failure", "cancelled") for r in results):
        return "failure"
    if any(r == "skipped" for r in results):
        return "skipped"
    return "success"


@dataclass(frozen=True)
class JobContext:
    """Per-job contexts known at load time (see the module docstring)."""

    job_id: str
    github: Mapping[str, Any]
    env: Mapping[str, str]
    matrix: Mapping[str, Any]
    strategy: Mapping[str, Any]
    runner: Mapping[str, Any]
    variables: Mapping[str, str]
    secrets: Mapping[str, str]
    inputs: Mapping[str, Any]
    need_cells: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def static_scope(self, workspace: Path) -> Scope:
        """Contexts without run results (for values GitHub fixes before a job starts)."""
        return Scope(self._contexts(workspace, dict(self.env), {}, {}, "success"), workspace)

    def _contexts(
        self,
        workspace: Path,
        env: Mapping[str, Any],
        needs: Mapping[str, Any],
        steps: Mapping[str, Any],
        status: str,
    ) -> dict[str, Any]:
        github = dict(self.github)
        github.update(job=self.job_id, workspace=str(workspace))
        return {
            "github": github,
            "env": dict(env),
            "vars": dict(self.variables),
            "secrets": dict(self.secrets),
            "inputs": dict(self.inputs),
            "matrix": dict(self.matrix),
            "strategy": dict(self.strategy),
            "runner": dict(self.runner),
            "needs": dict(needs),
            "steps": dict(steps),
            "job": {"status": status},
        }

    def needs_context(self, view: RuntimeView) -> tuple[dict[str, Any], list[str]]:
        """``needs`` by job id (a matrix job's cells merged), and every cell's result."""
        context: dict[str, Any] = {}
        results: list[str] = []
        for job_id, cells in self.need_cells.items():
            cell_results: list[str] = []
            outputs: dict[str, str] = {}
            for cell in cells:
                seen = view.needs.get(cell)
                result = _result(seen.status) if seen is not None else "skipped"
                cell_results.append(result)
                if seen is not None:
                    outputs.update(seen.outputs)
            results.extend(cell_results)
            merged = needs_status(cell_results, False)
            context[job_id] = {
                "result": merged if merged != "skipped" or not cell_results else "skipped",
                "outputs": outputs,
            }
        return context, results

    def scope(
        self,
        view: RuntimeView,
        *,
        job_level: bool = False,
        extra_env: Mapping[str, Any] | None = None,
        steps: Mapping[str, Any] | None = None,
    ) -> Scope:
        """The scope for an expression evaluated now; ``job_level``: the status comes
        from the needs (a job's ``if:``), else from the job's steps so far."""
        needs, results = self.needs_context(view)
        if job_level:
            status = needs_status(results, view.cancelled)
        else:
            status = "cancelled" if view.cancelled else view.job_status
        env = dict(self.env)
        env.update(view.env)
        env.update(extra_env or {})
        if steps is None:
            steps = {
                step_id: {
                    "outcome": s.outcome,
                    "conclusion": s.conclusion,
                    "outputs": dict(s.outputs),
                }
                for step_id, s in view.steps.items()
            }
        contexts = self._contexts(view.workdir, env, needs, steps, status)
        return Scope(contexts, view.workdir, status)
