"""When opsforge itself runs inside a CI system: that system's conventions on stdout.

GitHub Actions gets ``::add-mask::`` for every secret before a run, an ``::error``
annotation per failed job and per input error (with file and line, so it shows on the
file in the pull request); GitLab CI gets the failed jobs in red; CircleCI and Jenkins
get ``ERROR:`` lines. Outside CI (or with ``--output json``) nothing changes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from opsforge.engine import Event, StepFinished
from opsforge.errors import InputError, OpsforgeError
from opsforge.pipelines.ci_env import CISystem, detect
from opsforge.pipelines.masking import Masker

__all__ = ["CIAnnotator", "annotate_error"]


def _emit(line: str | None) -> None:
    if line:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class CIAnnotator:
    """A run subscriber that reports failed jobs the CI system's way."""

    def __init__(self, system: CISystem, secrets: Iterable[str]) -> None:
        self.system = system
        values = [s for s in secrets if s]
        self.masker = Masker(values)
        for value in values:
            _emit(system.mask(value))

    @classmethod
    def detect(cls, secrets: Iterable[str]) -> CIAnnotator | None:
        system = detect()
        return cls(system, secrets) if system is not None else None

    def __call__(self, event: Event) -> None:
        if not isinstance(event, StepFinished):
            return
        status = str(event.data.get("job_status", ""))
        if status not in ("failed", "timed_out") or event.data.get("allowed_failure"):
            return
        what = "timed out" if status == "timed_out" else "failed"
        message = self.masker.mask(event.message or what)
        _emit(
            self.system.error(
                f"job {event.step_id} {what}: {message}", title=f"opsforge: {event.step_id}"
            )
        )


def annotate_error(error: OpsforgeError) -> None:
    """Report an error the CI system's way (GitHub: an annotation on the file)."""
    system = detect()
    if system is None or system.name != "github":
        return
    if isinstance(error, InputError):
        _emit(system.error(error.message, path=error.path, line=error.line))
    else:
        _emit(system.error(str(error)))
