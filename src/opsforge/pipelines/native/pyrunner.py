"""Runs one ``@job`` function of a Python pipeline: ``python -m ... FILE FUNC CELL_JSON``."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path

__all__ = ["JobContext", "StepFailed", "main"]


class StepFailed(Exception):
    def __init__(self, command: str, code: int) -> None:
        super().__init__(f"command failed with exit code {code}: {command}")
        self.code = code


class JobContext:
    """What a job function gets: ``sh``, ``env``, ``workdir`` and the matrix ``params``."""

    def __init__(self, params: Mapping[str, str]) -> None:
        self.params = dict(params)
        self.env = os.environ
        self.workdir = Path.cwd()

    def sh(self, command: str, *, check: bool = True) -> int:
        """Run a shell command (output streams to the job log); raise on failure."""
        print(f"$ {command}", flush=True)
        code = subprocess.run(command, shell=True, check=False).returncode
        if code and check:
            raise StepFailed(command, code)
        return code


def main(argv: list[str]) -> int:
    path, func_name, cell = argv
    namespace = runpy.run_path(path, run_name="__opsforge_job__")
    func = namespace[func_name]
    params = json.loads(cell)
    try:
        func(JobContext(params), **params)
    except StepFailed as exc:
        print(str(exc), file=sys.stderr)
        return exc.code or 1
    except Exception:
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
