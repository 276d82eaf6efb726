"""The one table of process exit codes, shared by every command.

======  ============  ==========================================================
 code    name          meaning
======  ============  ==========================================================
 0       OK            every host succeeded (ok, changed or skipped)
 1       FAILED        a step failed or timed out on at least one host
                       (wins over 3 when both happen)
 2       USAGE         usage or input error: bad option, malformed inventory or
                       plan, unknown host pattern
 3       UNREACHABLE   at least one host was unreachable, refused login or had a
                       bad host key, and no step failed anywhere else
 4       INTERNAL      internal error (a bug in opsforge)
 130     INTERRUPTED   interrupted (Ctrl-C / SIGTERM); wins over every other code
======  ============  ==========================================================

:meth:`opsforge.engine.RunSummary.exit_code` picks among 0, 1, 3 and 130; the CLI
adds 2 and 4 for errors raised before or outside a run.
"""

from __future__ import annotations

import enum

__all__ = ["EXIT_CODE_HELP", "ExitCode"]


class ExitCode(enum.IntEnum):
    """Process exit codes; see the module docstring for the table."""

    OK = 0
    FAILED = 1
    USAGE = 2
    UNREACHABLE = 3
    INTERNAL = 4
    INTERRUPTED = 130


#: The table as plain lines, ready for a ``--help`` epilog.
EXIT_CODE_HELP = """\
Exit codes:
  0    every host succeeded
  1    a step failed or timed out on at least one host (wins over 3)
  2    usage or input error (bad option, malformed inventory, unknown pattern)
  3    at least one host was unreachable, refused login or had a bad host key
  4    internal error (a bug in opsforge: please report it)
  130  interrupted (Ctrl-C); the recap of what ran is still printed"""
