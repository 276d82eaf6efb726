"""State: run history (SQLite + JSON Lines) under the state directory.

``RunRecorder`` subscribes to a run's events; ``History`` reads them back::

    recorder = RunRecorder(state_dir(), command="exec", argv=sys.argv[1:])
    executor.subscribe(recorder)
    ...
    for row in History(state_dir()).list(limit=10):
        print(row.run_id, row.state)

This package sits below the engine and does not import it.
"""

from __future__ import annotations

from opsforge.state.database import DB_NAME, SCHEMA_VERSION
from opsforge.state.history import History, RunRecorder, RunRow, SupportsToDict
from opsforge.state.paths import ENV_VAR, state_dir

__all__ = [
    "DB_NAME",
    "ENV_VAR",
    "SCHEMA_VERSION",
    "History",
    "RunRecorder",
    "RunRow",
    "SupportsToDict",
    "state_dir",
]
