"""A job's output: split into lines, masked, written to the job's log file, emitted as events."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from opsforge.engine import StepContext
from opsforge.pipelines.masking import Masker

__all__ = ["JobLog"]


class JobLog:
    """Line-buffers stdout/stderr per stream, masks secrets, writes and emits each line.

    Events are :class:`~opsforge.engine.StepOutput` with ``step_id`` = the job name and
    ``stream`` ``stdout``/``stderr``, or ``opsforge`` for the runner's own notes.
    """

    def __init__(self, path: Path, masker: Masker) -> None:
        self.path = path
        self.masker = masker
        self.ctx: StepContext | None = None
        self._buffers: dict[str, str] = {}
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = open(path, "a", encoding="utf-8")  # noqa: SIM115

    def _emit(self, stream: str, line: str) -> None:
        masked = self.masker.mask(line)
        if self._file is not None:
            prefix = "" if stream == "stdout" else f"[{stream}] "
            self._file.write(prefix + masked + "\n")
        if self.ctx is not None:
            self.ctx.emit_output(stream, masked)

    def feed(self, stream: str, chunk: str) -> None:
        data = self._buffers.get(stream, "") + chunk
        *lines, rest = data.split("\n")
        self._buffers[stream] = rest
        for line in lines:
            self._emit(stream, line.rstrip("\r"))
        if lines and self._file is not None:
            self._file.flush()  # whole lines reach the file per chunk read: `tail -f` is live

    def stdout(self, chunk: str) -> None:
        self.feed("stdout", chunk)

    def stderr(self, chunk: str) -> None:
        self.feed("stderr", chunk)

    def note(self, text: str) -> None:
        """A line from opsforge itself (section headers, warnings)."""
        self.flush()
        self._emit("opsforge", text)
        if self._file is not None:
            self._file.flush()

    def flush(self) -> None:
        for stream, rest in list(self._buffers.items()):
            if rest:
                self._emit(stream, rest.rstrip("\r"))
            self._buffers[stream] = ""
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None
