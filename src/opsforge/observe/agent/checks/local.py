"""Local checks: a command's exit status, a file's age."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from opsforge.observe.agent.checks.base import CheckResult, timed
from opsforge.observe.config_nodes import Section

__all__ = ["CommandCheck", "FileAgeCheck"]


@dataclass(frozen=True, slots=True)
class CommandCheck:
    """Run ``command`` (a string split like a shell would, or a list; no shell); passes
    on exit status 0. A command that outlives ``timeout`` is killed and fails."""

    kind: ClassVar[str] = "command"
    name: str
    argv: tuple[str, ...]
    timeout: float

    @classmethod
    def from_config(cls, name: str, section: Section) -> CommandCheck:
        words = section.texts("command")
        if len(words) == 1:
            try:
                words = shlex.split(words[0])
            except ValueError as exc:
                raise section.error(f"'command': {exc}", "command") from None
        if not words:
            raise section.error("'command' is required")
        return cls(name, tuple(words), section.number("timeout", 10.0, minimum=0.001))

    def run(self) -> CheckResult:
        started = time.perf_counter()
        try:
            done = subprocess.run(self.argv, capture_output=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            return CheckResult(ok=False, duration=timed(started), error="timed out")
        except OSError as exc:
            return CheckResult(ok=False, duration=timed(started), error=str(exc))
        return CheckResult(
            ok=done.returncode == 0,
            duration=timed(started),
            values={"command_exit_status": ("Exit status of the command.", done.returncode)},
        )


@dataclass(frozen=True, slots=True)
class FileAgeCheck:
    """The age of ``path`` (since its last modification); passes while the file exists
    and, when ``max_age`` (seconds) is set, is not older than that."""

    kind: ClassVar[str] = "file_age"
    name: str
    path: Path
    max_age: float | None

    @classmethod
    def from_config(cls, name: str, section: Section) -> FileAgeCheck:
        max_age = section.number("max_age", -1.0, minimum=-1.0)
        return cls(name, Path(section.required_text("path")), None if max_age < 0 else max_age)

    def run(self) -> CheckResult:
        started = time.perf_counter()
        try:
            mtime = os.stat(self.path).st_mtime
        except OSError as exc:
            return CheckResult(ok=False, duration=timed(started), error=exc.strerror)
        age = max(0.0, time.time() - mtime)
        return CheckResult(
            ok=self.max_age is None or age <= self.max_age,
            duration=timed(started),
            values={"file_age_seconds": ("Seconds since the file was last modified.", age)},
        )
