"""Turn any exception out of Jinja2 into a :class:`TemplateError` naming file and line.

Jinja2 compiles a template with the template's filename and, when an error leaves a
render, rewrites the traceback so the template's frames carry template line numbers.
The innermost frame whose filename is a template we compiled is where the error is;
a frame after it whose code is one of our filters, tests or lookups names the culprit.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from types import CodeType, TracebackType
from typing import Any

import jinja2
from jinja2 import TemplateNotFound, TemplatesNotFound, TemplateSyntaxError, UndefinedError

from opsforge.errors import OpsforgeError, TemplateError

__all__ = ["ErrorLocator", "PluginError", "display_path", "split_origin"]

_NO_FILTER = re.compile(r"No (filter|test) named '([^']+)'(?: found)?\.?")


class PluginError(Exception):
    """A filter, test or lookup refused its input; the message is meant for the user."""


def split_origin(origin: str) -> tuple[str, int | None]:
    """``playbook.yml:12`` -> (``playbook.yml``, 12); anything else -> (origin, None)."""
    match = re.fullmatch(r"(.+):(\d+)", origin)
    if match:
        return match.group(1), int(match.group(2))
    return origin, None


def display_path(filename: str) -> str:
    """A template path as people should read it: relative to the working directory when
    the file is below it, else as it is."""
    try:
        rel = os.path.relpath(filename)
    except ValueError:
        return filename
    return filename if rel.startswith("..") else rel


@dataclass(frozen=True, slots=True)
class _Source:
    path: str  # shown to people
    line: int | None  # for strings: the origin's line (if it has one)
    is_string: bool


class ErrorLocator:
    """Knows every compiled template filename and every plugin's code object."""

    def __init__(self) -> None:
        self._sources: dict[str, _Source] = {}
        self._plugins: dict[CodeType, tuple[str, str]] = {}
        self._lock = threading.Lock()

    def add_file(self, filename: str) -> None:
        if filename not in self._sources:
            with self._lock:
                self._sources.setdefault(filename, _Source(display_path(filename), None, False))

    def add_string(self, filename: str, origin: str) -> None:
        if filename not in self._sources:
            path, line = split_origin(origin)
            with self._lock:
                self._sources.setdefault(filename, _Source(path, line, True))

    def add_plugins(self, kind: str, plugins: dict[str, Any]) -> None:
        """Remember which code object is which filter/test, so a failure can name it.
        Code shared by several names (decorator wrappers) names none of them."""
        seen: dict[CodeType, set[str]] = {}
        for name, func in plugins.items():
            code = getattr(func, "__code__", None)
            if isinstance(code, CodeType) and not name.startswith("ansible.builtin."):
                seen.setdefault(code, set()).add(name)
        for code, names in seen.items():
            if len(names) == 1:
                self._plugins[code] = (kind, names.pop())

    # -- building errors ----------------------------------------------------------------

    def error(self, message: str, filename: str | None, lineno: int | None) -> TemplateError:
        source = self._sources.get(filename or "")
        if source is None:
            return TemplateError(message, path=filename, line=lineno)
        if not source.is_string:
            return TemplateError(message, path=source.path, line=lineno)
        if lineno is not None and lineno > 1:
            message = f"{message} (line {lineno} of the template)"
        return TemplateError(message, path=source.path, line=source.line)

    def _walk(
        self, tb: TracebackType | None
    ) -> tuple[str | None, int | None, tuple[str, str] | None]:
        """(template filename, template line, (kind, name) of the failing plugin)."""
        frames: list[TracebackType] = []
        while tb is not None:
            frames.append(tb)
            tb = tb.tb_next
        last = None
        for index, frame in enumerate(frames):
            if frame.tb_frame.f_code.co_filename in self._sources:
                last = index
        if last is None:
            return None, None, None
        where = frames[last]
        plugin = None
        for frame in frames[last + 1 :]:
            plugin = self._plugins.get(frame.tb_frame.f_code)
            if plugin is not None:
                break
        return where.tb_frame.f_code.co_filename, where.tb_lineno, plugin

    def locate(self, exc: BaseException, *, fallback: str | None = None) -> OpsforgeError:
        """The error to raise for ``exc``. Errors already located (a nested template's,
        a vault file's) pass through unchanged."""
        if isinstance(exc, OpsforgeError):
            return exc
        if isinstance(exc, TemplateSyntaxError):
            filename = exc.filename or exc.name or fallback
            return self.error(_plain_message(exc.message or str(exc)), filename, exc.lineno)
        filename, lineno, plugin = self._walk(exc.__traceback__)
        if filename is None:
            filename = fallback
        if isinstance(exc, TemplatesNotFound | TemplateNotFound):
            message = exc.message or f"template {exc.name!r} not found"
        elif isinstance(exc, UndefinedError | jinja2.TemplateError):
            message = str(exc)
        elif isinstance(exc, PluginError):
            message = f"{plugin[0]} '{plugin[1]}': {exc}" if plugin else str(exc)
        else:
            detail = f"{type(exc).__name__}: {exc}"
            message = f"{plugin[0]} '{plugin[1]}' failed: {detail}" if plugin else detail
        return self.error(_plain_message(message), filename, lineno)


def _plain_message(message: str) -> str:
    """Jinja2's "No filter named 'x'." -> "unsupported filter 'x'"."""
    return _NO_FILTER.sub(lambda m: f"unsupported {m.group(1)} '{m.group(2)}'", message)
