"""``opsforge logs anomalies``: window-by-window reports with evidence, and metrics."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click
from rich.text import Text

from opsforge.cli.console import err_console, out_console
from opsforge.cli.logs_options import format_option, store_for, store_options
from opsforge.observe.logs.analysis import LogAnalyzer
from opsforge.observe.logs.anomalies import Anomaly, AnomalyConfig
from opsforge.observe.logs.follow import follow
from opsforge.observe.logs.metrics import template_exposition, write_textfile
from opsforge.observe.logs.miner import TemplateMiner
from opsforge.observe.logs.parsing import (
    FormatChoice,
    choose_parser,
    parse_file,
    parse_lines,
)
from opsforge.observe.logs.sources import check_readable


def _print_anomaly(anomaly: Anomaly, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(anomaly.to_dict()))
        return
    out_console.print(
        Text.assemble(
            (anomaly.window_start, "dim"),
            " ",
            (f"{anomaly.kind:<13}", "bold yellow"),
            " ",
            anomaly.detail,
            "\n  ",
            (anomaly.subject, "cyan"),
        )
    )
    for line in anomaly.evidence:
        out_console.print(Text.assemble(("    evidence: ", "dim"), line))


@click.command("anomalies")
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--follow", is_flag=True, help="Keep reading as the files grow (tail -F); Ctrl-C stops."
)
@click.option(
    "-w",
    "--window",
    type=click.FloatRange(1),
    default=60,
    show_default=True,
    help="Window length in seconds.",
)
@format_option("Log format (see 'opsforge logs parse').")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per anomaly.")
@click.option(
    "--metrics",
    "metrics_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write opsforge_log_template_lines_total (Prometheus textfile) here.",
)
@click.option(
    "--top",
    type=click.IntRange(1),
    default=50,
    show_default=True,
    help="Templates exposed in --metrics.",
)
@store_options
def anomalies_command(
    files: tuple[str, ...],
    follow: bool,
    window: float,
    fmt: str,
    as_json: bool,
    metrics_path: Path | None,
    top: int,
    db_path: Path | None,
    no_db: bool,
) -> None:
    """Report what is unusual in FILES, window by window, with the lines that show it.

    new_template (never seen before), rate_spike (a template far above its
    EWMA baseline), error_ratio (the share of error-level lines jumps),
    host_burst (one host far above its baseline). Templates known from earlier
    runs (the template store) are not new.

    \b
      opsforge logs anomalies /var/log/app/*.log --window 300
      opsforge logs anomalies app.log --follow --metrics /var/lib/node_exporter/logs.prom
    """
    check_readable([f for f in files if not follow or Path(f).exists()])
    store = store_for(db_path, no_db)
    miner = TemplateMiner()
    if store:
        store.load(miner)
    analyzer = LogAnalyzer(miner, AnomalyConfig(window=window))
    count = 0

    def emit(found: list[Anomaly]) -> None:
        nonlocal count
        for anomaly in found:
            count += 1
            _print_anomaly(anomaly, as_json)
        if found and metrics_path is not None:
            write_textfile(metrics_path, template_exposition(miner, top))

    try:
        if follow:
            _follow_anomalies(files, fmt, analyzer, emit, metrics_path, top)
        else:
            for path in files:
                choice, records = parse_file(path, fmt, original=True)
                err_console.print(f"[dim]{path}: format {choice.name}[/dim]")
                for record in records:
                    emit(analyzer.feed(record))
    finally:
        emit(analyzer.flush())
        if store:
            store.save(miner)
        if metrics_path is not None:
            write_textfile(metrics_path, template_exposition(miner, top))
    err_console.print(f"{count} anomalies; {len(miner.templates)} templates")


def _follow_anomalies(
    files: tuple[str, ...],
    fmt: str,
    analyzer: LogAnalyzer,
    emit: Any,
    metrics_path: Path | None,
    top: int,
) -> None:
    choices: dict[str, FormatChoice] = {}
    pending: dict[str, list[str]] = {}
    last_metrics = 0.0
    for path, line in follow(list(files)):
        now = time.time()
        if line is None:
            emit(analyzer.tick(now))
            if metrics_path is not None and now - last_metrics >= 15:
                write_textfile(metrics_path, template_exposition(analyzer.miner, top))
                last_metrics = now
            continue
        choice = choices.get(path)
        if choice is None:
            sample = pending.setdefault(path, [])
            sample.append(line)
            if len(sample) < 5 and fmt == "auto":
                continue
            choice = choices[path] = choose_parser(fmt, sample)
            lines = pending.pop(path)
        else:
            lines = [line]
        for record in parse_lines(lines, choice, source=path, original=True):
            emit(analyzer.feed(record, now=now))
