"""``opsforge pipeline export --to gitlab|github|circleci|jenkins``: write a pipeline
(usually opsforge's own) as another CI system's file, then load it back with that
system's importer and compare the job graphs."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from opsforge.cli.console import err_console
from opsforge.cli.pipeline_cmd import _load, load_options
from opsforge.errors import UsageError
from opsforge.pipelines.export import TARGETS, default_path, export_pipeline, graph_signature
from opsforge.pipelines.formats import frontend

__all__ = ["export_command"]


def _write(dest: Path, text: str) -> None:
    """Write ``text`` to ``dest`` atomically (a temporary file renamed over it)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.command("export")
@click.argument("args", nargs=-1, metavar="[FILE]")
@click.option(
    "--to", "target", type=click.Choice(TARGETS), required=True, help="The CI system to write for."
)
@click.option(
    "-o",
    "--output",
    metavar="PATH",
    help="Where to write ('-' = stdout; default: the system's usual file in the project root).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option(
    "--check/--no-check",
    default=True,
    show_default=True,
    help="Load the written file with the system's importer; compare job graphs.",
)
@load_options
def export_command(
    args: tuple[str, ...], target: str, output: str | None, force: bool, check: bool, **kw: Any
) -> None:
    """Write FILE (default: the detected pipeline) as a GitLab CI, GitHub Actions,
    CircleCI or Jenkins file, so a team defines its pipeline once.

    \b
    Examples:
      opsforge pipeline export --to github            # .github/workflows/ci.yml
      opsforge pipeline export --to jenkins -o - | less
      opsforge pipeline export opsforge-pipeline.yml --to gitlab --force
    """
    pipeline, _, options = _load(args, kw)
    exported = export_pipeline(pipeline, target)
    for message in exported.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {escape(message)}")
    if output == "-":
        sys.stdout.write(exported.text)
        return
    dest = Path(output) if output else options.root / default_path(target, pipeline)
    if dest.exists() and not force:
        raise UsageError(f"{dest} exists; give --force to overwrite it (or -o PATH)")
    _write(dest, exported.text)
    err_console.print(f"wrote {escape(str(dest))} ({len(pipeline.jobs)} jobs)")
    if not check:
        return
    again = frontend(target).load(dest, options)
    want, got = graph_signature(pipeline), graph_signature(again)
    if want == got:
        err_console.print(f"checked: {target} loads it back with the same job graph")
        return
    lost = sorted(name for name, _ in want - got)
    err_console.print(
        f"[yellow]warning:[/yellow] the {target} file's job graph differs "
        f"(jobs whose dependencies changed: {escape(', '.join(lost))})"
    )
