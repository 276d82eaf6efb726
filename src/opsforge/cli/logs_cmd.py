"""``opsforge logs ...``: parse, mine templates, find anomalies in log files."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import IO, Any

import click
from rich.table import Table
from rich.text import Text

from opsforge.cli.console import err_console, out_console
from opsforge.cli.logs_anomalies_cmd import anomalies_command
from opsforge.cli.logs_options import format_option, store_for, store_options
from opsforge.cli.logs_ship_cmd import ship_command
from opsforge.cli.logs_tail_cmd import tail_command
from opsforge.errors import UsageError
from opsforge.observe.logs.grok import GrokLibrary
from opsforge.observe.logs.miner import TemplateMiner
from opsforge.observe.logs.mining import mine_file
from opsforge.observe.logs.parsing import parse_file
from opsforge.observe.logs.sources import check_readable


@click.group("logs")
def logs_group() -> None:
    """Log files: parse into records, mine templates, report anomalies, ship them."""


logs_group.add_command(anomalies_command)
logs_group.add_command(ship_command)
logs_group.add_command(tail_command)


def _open_output(path: str) -> IO[str]:
    if path == "-":
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


@logs_group.command("mine")
@click.argument("files", nargs=-1, required=True)
@store_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object per template.")
@click.option(
    "-n",
    "--top",
    type=click.IntRange(0),
    default=50,
    show_default=True,
    help="Show the N most frequent templates (0: all).",
)
@click.option(
    "--assignments",
    metavar="PATH",
    help="Write each input line's template (JSON Lines: file, line, template_id, "
    "template) to PATH ('-' for stdout).",
)
def mine_command(
    files: tuple[str, ...],
    db_path: Path | None,
    no_db: bool,
    as_json: bool,
    top: int,
    assignments: str | None,
) -> None:
    """Group the lines of FILES into templates; variable parts become <*>.

    Headers (timestamp, level, host, logger) are recognised and left out of the
    templates. Templates are kept in a SQLite store, so a later run continues
    with the same ids and counts. '-' reads standard input.

    \b
      opsforge logs mine /var/log/syslog
      opsforge logs mine app.log --json --top 0
      opsforge logs mine hdfs.log --no-db --assignments lines.jsonl
    """
    check_readable(files)
    store = store_for(db_path, no_db)
    miner = TemplateMiner()
    loaded = store.load(miner) if store else 0
    per_file: list[tuple[str, list[int]]] = []
    for path in files:
        layout, ids = mine_file(path, miner, keep_assignments=assignments is not None)
        err_console.print(f"[dim]{path}: header layout {layout or 'none (whole lines)'}[/dim]")
        per_file.append((path, ids))
    miner.consolidate()
    if store:
        store.save(miner)
    if assignments is not None:
        _write_assignments(assignments, miner, per_file)
    templates = sorted(miner.templates.values(), key=lambda t: (-t.count, t.id))
    shown = templates if top == 0 else templates[:top]
    if as_json:
        for t in shown:
            click.echo(
                json.dumps(
                    {
                        "id": t.id,
                        "template": t.text,
                        "count": t.count,
                        "first_seen": t.first_seen,
                        "last_seen": t.last_seen,
                        "examples": t.examples,
                    }
                )
            )
    elif assignments != "-":
        _print_templates(shown)
    total = sum(t.count for t in templates)
    err_console.print(
        f"{len(templates)} templates ({loaded} loaded), {total} lines in all"
        + (f", of which {len(shown)} shown" if len(shown) < len(templates) else "")
    )


def _write_assignments(
    target: str, miner: TemplateMiner, per_file: list[tuple[str, list[int]]]
) -> None:
    out = _open_output(target)
    try:
        for path, ids in per_file:
            for number, template_id in enumerate(ids, 1):
                final = miner.resolve(template_id) if template_id else 0
                text = miner.templates[final].text if final else ""
                out.write(
                    json.dumps(
                        {"file": path, "line": number, "template_id": final, "template": text}
                    )
                    + "\n"
                )
    finally:
        if out is not sys.stdout:
            out.close()


def _print_templates(templates: list[Any]) -> None:
    table = Table(box=None, pad_edge=False)
    for name in ("id", "count", "first seen", "last seen"):
        table.add_column(name, no_wrap=True, justify="right" if name != "first seen" else "left")
    table.add_column("template")
    for t in templates:
        table.add_row(str(t.id), str(t.count), t.first_seen, t.last_seen, Text(t.text))
    out_console.print(table)


def _format_option_value(fmt: str, grok: str | None, pattern_files: tuple[Path, ...]) -> Any:
    if grok is None:
        if pattern_files:
            raise UsageError("--patterns needs --grok (the expression that uses them)")
        return fmt
    library = GrokLibrary()
    for path in pattern_files:
        library.load_file(path)
    return library.compile(grok)


@logs_group.command("parse")
@click.argument("files", nargs=-1, required=True)
@format_option("Log format; auto picks the one most of the first lines parse in.")
@click.option(
    "--grok",
    metavar="EXPR",
    help="Parse with a grok expression, e.g. "
    "'%{IP:source.ip} %{WORD:http.request.method} %{NUMBER:bytes:int}'.",
)
@click.option(
    "--patterns",
    "pattern_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A grok pattern file (NAME regex per line) for --grok. Repeatable.",
)
@click.option(
    "-o",
    "--output",
    type=click.Choice(["json", "table"]),
    default="json",
    show_default=True,
    help="JSON Lines (one record per line) or a table.",
)
@click.option("--stats", is_flag=True, help="Print records, failures and records/s to stderr.")
def parse_command(
    files: tuple[str, ...],
    fmt: str,
    grok: str | None,
    pattern_files: tuple[Path, ...],
    output: str,
    stats: bool,
) -> None:
    """Parse FILES into structured records (ECS field names).

    Formats: syslog (RFC 3164), rfc5424, nginx and apache (access and error
    logs), json, logfmt, journald (journalctl -o json). Python and Java stack
    traces join the line they belong to. Lines that do not parse are kept, with
    tags ["_parsefailure"]. '-' reads standard input.

    \b
      opsforge logs parse /var/log/nginx/access.log
      opsforge logs parse app.log -o table
      opsforge logs parse fw.log --grok '%{IP:source.ip} -> %{IP:destination.ip}'
    """
    check_readable(files)
    chosen = _format_option_value(fmt, grok, pattern_files)
    started = time.perf_counter()
    records = failures = 0
    table = _records_table() if output == "table" else None
    for path in files:
        choice, parsed = parse_file(path, chosen)
        err_console.print(f"[dim]{path}: format {choice.name}[/dim]")
        for record in parsed:
            records += 1
            if "_parsefailure" in record.get("tags", ()):
                failures += 1
            if table is not None:
                table.add_row(*_table_cells(record))
            else:
                click.echo(json.dumps(record, ensure_ascii=False, default=str))
    if table is not None:
        out_console.print(table)
    if stats:
        seconds = time.perf_counter() - started
        err_console.print(
            f"{records} records, {failures} unparsed, in {seconds:.2f}s "
            f"({records / seconds if seconds else 0:,.0f} records/s)"
        )


def _records_table() -> Table:
    table = Table(box=None, pad_edge=False)
    for name in ("line", "@timestamp", "level", "source"):
        table.add_column(name, no_wrap=True)
    table.add_column("message")
    return table


def _table_cells(record: dict[str, Any]) -> tuple[str | Text, ...]:
    source = record.get("host.name") or record.get("source.ip") or ""
    process = record.get("process.name") or record.get("log.logger") or ""
    if process:
        source = f"{source} {process}".strip()
    flag = " [unparsed]" if "_parsefailure" in record.get("tags", ()) else ""
    return (
        str(record.get("log.file.line", "")),
        str(record.get("@timestamp", "")),
        str(record.get("log.level", "")),
        str(source),
        Text(str(record.get("message", "")) + flag),
    )
