"""``opsforge logs ship``: files to Elasticsearch or Loki through a disk buffer."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import click

from opsforge.cli.console import err_console
from opsforge.cli.logs_options import format_option
from opsforge.engine.exitcodes import ExitCode
from opsforge.errors import UsageError
from opsforge.observe.logs.shipper import Shipper
from opsforge.observe.logs.sinks import ElasticsearchSink, LokiSink, Sink
from opsforge.observe.logs.sources import check_readable
from opsforge.observe.logs.spool import Spool
from opsforge.state import state_dir


def _sink_for(target: tuple[str, str], index: str, labels: tuple[str, ...]) -> Sink:
    kind, url = target
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--to {kind} {url}: the URL must start with http:// or https://")
    if kind == "elasticsearch":
        return ElasticsearchSink(url, index)
    pairs: dict[str, str] = {}
    for item in labels:
        name, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]*", name):
            raise UsageError(f"--label '{item}': expected NAME=VALUE with a Prometheus label name")
        pairs[name] = value
    return LokiSink(url, pairs)


@click.command("ship")
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--to",
    "target",
    nargs=2,
    required=True,
    metavar="elasticsearch|loki URL",
    type=(click.Choice(["elasticsearch", "loki"]), str),
    help="The target: '--to elasticsearch http://es:9200' or '--to loki http://loki:3100'.",
)
@click.option(
    "--index",
    default="logs-opsforge-default",
    show_default=True,
    help="Elasticsearch index or data stream.",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="NAME=VALUE",
    help="A static Loki label (job=... overrides the default 'opsforge'). Repeatable.",
)
@format_option("Log format (see 'opsforge logs parse').")
@click.option(
    "--spool",
    "spool_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Disk buffer directory. Default: one per target under the state directory.",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 50_000),
    default=500,
    show_default=True,
    help="Records per request.",
)
@click.option(
    "--max-wait",
    type=click.FloatRange(0),
    default=300,
    show_default=True,
    help="Seconds to keep retrying an unreachable target before giving up (exit 3).",
)
@click.option("--follow", is_flag=True, help="Keep shipping lines as the files grow; Ctrl-C stops.")
def ship_command(
    files: tuple[str, ...],
    target: tuple[str, str],
    index: str,
    labels: tuple[str, ...],
    fmt: str,
    spool_dir: Path | None,
    batch: int,
    max_wait: float,
    follow: bool,
) -> None:
    """Ship FILES to Elasticsearch (_bulk) or Loki (push), at least once.

    Lines go to a disk buffer (the spool) before they are sent and leave it only
    when the target acknowledged them, so an outage or a restart loses nothing:
    the next run resumes where this one stopped. Retries back off with jitter and
    resend only what failed. Records the target refuses for good are written to
    dead-letter.ndjson in the spool.

    \b
      opsforge logs ship /var/log/syslog --to elasticsearch http://127.0.0.1:9200
      opsforge logs ship app.log --to loki http://127.0.0.1:3100 --label env=prod --follow
    """
    check_readable(files)
    sink = _sink_for(target, index, labels)
    if spool_dir is None:
        key = hashlib.sha1(f"{target[0]} {target[1]} {index} {sorted(labels)}".encode()).hexdigest()
        spool_dir = state_dir() / "ship" / key[:16]
    shipper = Shipper(Spool(spool_dir), sink, fmt=fmt, batch=batch, max_wait=max_wait)
    try:
        while True:
            for path in files:
                shipper.ingest(str(Path(path).resolve()))
                shipper.drain()
            if not follow:
                break
            shipper.stop.wait(1.0)
    except KeyboardInterrupt:
        shipper.stop.set()
        raise
    finally:
        stats = shipper.stats
        err_console.print(
            f"{stats.buffered} lines buffered, {stats.delivered} delivered, "
            f"{stats.dead_lettered} refused (dead-letter), {stats.retries} retries; "
            f"spool {spool_dir}"
        )
    if stats.dead_lettered:
        err_console.print(
            f"[red]{stats.dead_lettered} records refused; "
            f"see {spool_dir / 'dead-letter.ndjson'}[/red]"
        )
        sys.exit(ExitCode.FAILED)
