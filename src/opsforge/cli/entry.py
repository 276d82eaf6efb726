"""The ``opsforge`` console script: a start-up without garbage-collection pauses.

Starting the CLI imports a few hundred modules and builds their classes: objects that
live until exit. Python's cyclic collector would scan them again and again while they
are made; :func:`gc_paused` turns it off for such bursts and then freezes what was
built, so later collections (during a long run) never scan it again.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_paused", "main"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a burst of long-lived objects is built (module
    imports, a parsed pipeline): collections then only scan what stays alive anyway.
    Afterwards the survivors are frozen (later collections never scan them again) and
    collection resumes, unless it was off before."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def main() -> None:
    """Import the CLI with collection paused, then run it."""
    with gc_paused():
        from opsforge.cli.main import main as run
    run()
