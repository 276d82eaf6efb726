"""``opsforge copy`` and ``opsforge fetch``: move files to and from many hosts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from opsforge.adhoc import CopyTask, FetchTask
from opsforge.cli.render import TextRenderer
from opsforge.cli.runner import execute, fanout_plan
from opsforge.cli.targets import Targets, resolve_targets, target_options
from opsforge.errors import UsageError


def _text(targets: Targets) -> TextRenderer:
    return TextRenderer([s.name for s in targets.specs])


def _mode(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text, 8)
    except ValueError:
        raise UsageError(f"--mode '{text}': expected an octal mode like 0644") from None
    if not 0 <= value <= 0o7777:
        raise UsageError(f"--mode '{text}': out of range")
    return value


@click.command("copy")
@click.argument("pattern")
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("dest")
@target_options
@click.option("-m", "--mode", help="File mode, octal (0644).")
@click.option("--owner", help="Owner of the file (needs root or --become).")
@click.option("--group", "group_", help="Group of the file.")
def copy_command(
    pattern: str,
    src: Path,
    dest: str,
    mode: str | None,
    owner: str | None,
    group_: str | None,
    **params: Any,
) -> None:
    """Copy local SRC to DEST on every host matching PATTERN, atomically.

    The file is written to a temporary name next to DEST and renamed over it,
    so an interrupted copy never leaves a half-written DEST.
    """
    targets = resolve_targets(pattern, params)
    task = CopyTask(src=src, dest=dest, mode=_mode(mode), owner=owner, group=group_)
    sys.exit(execute(targets, fanout_plan(targets, task), command="copy", text=_text(targets)))


@click.command("fetch")
@click.argument("pattern")
@click.argument("src")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@target_options
@click.option(
    "--flat", is_flag=True, help="Write DEST/<host>-<name> instead of DEST/<host>/<path>."
)
def fetch_command(pattern: str, src: str, dest: Path, flat: bool, **params: Any) -> None:
    """Fetch SRC from every host matching PATTERN into DEST/<host>/<SRC path>."""
    targets = resolve_targets(pattern, params)
    task = FetchTask(src=src, dest_dir=dest, flat=flat)
    sys.exit(execute(targets, fanout_plan(targets, task), command="fetch", text=_text(targets)))
