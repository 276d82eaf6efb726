"""Multi-line events: Python tracebacks and Java stack traces join their log line.

:func:`group_lines` turns ``(line_number, line)`` pairs into events
``(first_line_number, first_line, continuation_lines)``. A line continues the
event before it when it is part of a stack trace:

* indented lines (``  File "x.py", line 3``, ``\tat com.x.Y(Y.java:10)``,
  ``    ... 5 more``);
* ``Traceback (most recent call last):``, the chained-exception sentences and a
  blank line between them, and, right after an indented traceback block, the
  exception line (``ValueError: bad``);
* ``Caused by: ...``, ``Suppressed: ...`` and a qualified Java exception line
  (``java.lang.IllegalStateException: boom``).

Any other line starts a new event, so ordinary logs pass through one line per event.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

__all__ = ["Event", "group_lines"]

Event = tuple[int, str, list[str]]

_PYTHON_START = "Traceback (most recent call last):"
_CHAINED = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
_JAVA_HEAD = re.compile(
    r"(?:Caused by|Suppressed): |(?:[a-zA-Z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)\b"
)
_PY_EXCEPTION = re.compile(
    r"[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Group)?(?::.*)?$"
)


def group_lines(lines: Iterable[tuple[int, str]], *, max_lines: int = 500) -> Iterator[Event]:
    """Group stack-trace lines with the event they belong to."""
    current: Event | None = None
    in_traceback = False  # inside a Python traceback, waiting for its exception line
    after_exception = False  # just saw a traceback's exception line
    blanks: list[tuple[int, str]] = []  # blank lines after it, maybe before a chained one
    for number, line in lines:
        if after_exception and not line.strip():
            blanks.append((number, line))
            continue
        if blanks:
            if current is not None and line in _CHAINED:
                current[2].extend(blank for _, blank in blanks)
            else:
                if current is not None:
                    yield current
                yield from ((n, blank, []) for n, blank in blanks[:-1])
                current = (blanks[-1][0], blanks[-1][1], [])
            blanks = []
        after_exception = False
        continues = False
        if current is not None and len(current[2]) < max_lines:
            if line[:1] in (" ", "\t") and line.strip():
                continues = True
            elif line.startswith(_PYTHON_START) or line in _CHAINED:
                continues = in_traceback = True
            elif in_traceback and not line.strip():
                continues = True
            elif in_traceback and _PY_EXCEPTION.match(line):
                continues = after_exception = True
                in_traceback = False
            elif _JAVA_HEAD.match(line):
                continues = True
        if continues and current is not None:
            current[2].append(line)
            continue
        in_traceback = False
        if current is not None:
            yield current
        current = (number, line, [])
    if current is not None:
        yield current
    yield from ((n, blank, []) for n, blank in blanks)
