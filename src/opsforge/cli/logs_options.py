"""Options shared by the ``opsforge logs`` commands: the log format and the template store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from opsforge.observe.logs.parsing import FORMAT_NAMES
from opsforge.observe.logs.template_store import STORE_NAME, TemplateStore
from opsforge.state import state_dir

__all__ = ["format_option", "store_for", "store_options"]

F = TypeVar("F", bound=Callable[..., Any])


def format_option(help_text: str = "Log format (see 'opsforge logs parse').") -> Callable[[F], F]:
    """``-F/--format`` (auto or a named format), passed as ``fmt``."""
    return click.option(
        "-F",
        "--format",
        "fmt",
        type=click.Choice(FORMAT_NAMES),
        default="auto",
        show_default=True,
        help=help_text,
    )


def store_options(func: F) -> F:
    """``--db PATH`` and ``--no-db``, passed as ``db_path`` and ``no_db``."""
    func = click.option(
        "--no-db", is_flag=True, help="No template store: start empty, save nothing."
    )(func)
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"Template store (SQLite). Default: {STORE_NAME} in the state directory.",
    )(func)


def store_for(db_path: Path | None, no_db: bool) -> TemplateStore | None:
    """The template store the options name (None with ``--no-db``)."""
    return None if no_db else TemplateStore(db_path or state_dir() / STORE_NAME)
