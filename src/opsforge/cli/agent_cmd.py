"""``opsforge agent serve|scrape|push|install``: the metrics agent."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import click
from rich.markup import escape

from opsforge.cli.console import err_console
from opsforge.cli.main import LazyGroup
from opsforge.cli.serving import serve_until_stopped, stop_on_sigterm
from opsforge.observe.agent import (
    DEFAULT_LISTEN,
    Agent,
    AgentConfig,
    PushConfig,
    group_url,
    load_config,
    make_server,
    push_exposition,
    render,
)
from opsforge.observe.errors import PushError

_CONFIG = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Agent config file (YAML): collectors, exclusions, textfile dir, processes, checks.",
)
_TEXTFILE = click.option(
    "--textfile-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory of *.prom files to serve (overrides the config's textfile directory).",
)


def _config(path: Path | None, textfile_dir: Path | None) -> AgentConfig:
    config = load_config(path) if path is not None else AgentConfig()
    if textfile_dir is not None:
        from dataclasses import replace

        config = replace(config, textfile_directory=textfile_dir)
    return config


@click.group(
    "agent",
    cls=LazyGroup,
    # install pulls in the deploy engine and SSH: not loaded by the agent itself
    lazy={"install": "opsforge.cli.agent_install:install_command"},
)
def agent_group() -> None:
    """The metrics agent: a node_exporter drop-in built on psutil, with checks and push mode."""


@agent_group.command("serve")
@click.option(
    "--listen",
    default=None,
    metavar="HOST:PORT",
    help=f"Address to serve /metrics on [default: the config's, else {DEFAULT_LISTEN}].",
)
@_CONFIG
@_TEXTFILE
def serve_command(listen: str | None, config_path: Path | None, textfile_dir: Path | None) -> None:
    """Serve /metrics until interrupted (SIGINT/SIGTERM); push too when the config has push:.

    \b
    Examples:
      opsforge agent serve
      opsforge agent serve --listen 0.0.0.0:9100 --config /etc/opsforge/agent.yml
    """
    config = _config(config_path, textfile_dir)
    agent = Agent(config)
    address = listen or config.listen
    server = make_server(address, agent)
    err_console.print(
        f"agent: serving on http://{escape(address)}/metrics "
        f"(collectors: {escape(', '.join(agent.collectors))})"
    )
    push = config.push
    work = None if push is None else lambda stop: _push_loop(agent, push, stop, once=False)
    serve_until_stopped(server, "agent-http", work)
    err_console.print("agent: stopped")


@agent_group.command("scrape")
@_CONFIG
@_TEXTFILE
@click.option("--openmetrics", is_flag=True, help="OpenMetrics instead of text format 0.0.4.")
def scrape_command(config_path: Path | None, textfile_dir: Path | None, openmetrics: bool) -> None:
    """Collect once and print the exposition (what /metrics would answer)."""
    agent = Agent(_config(config_path, textfile_dir))
    sys.stdout.buffer.write(render(agent.collect(), openmetrics=openmetrics))
    sys.stdout.flush()


def _push_loop(agent: Agent, push: PushConfig, stop: threading.Event, *, once: bool) -> None:
    url = group_url(push.url, push.job, push.instance)
    failures = 0
    while True:
        started = time.monotonic()
        try:
            push_exposition(url, agent.scrape())
            failures = 0
        except PushError as exc:
            if once:
                raise
            failures += 1
            err_console.print(f"[yellow]warning:[/yellow] {escape(str(exc))}")
        if once:
            return
        delay = push.interval * min(2**failures, 8) - (time.monotonic() - started)
        if stop.wait(max(0.0, delay)):
            return


@agent_group.command("push")
@click.option("--gateway", "url", metavar="URL", help="Pushgateway URL [default: the config's].")
@click.option("--job", default=None, help="Grouping key job [default: opsforge_agent].")
@click.option("--instance", default=None, help="Grouping key instance [default: hostname].")
@click.option("--interval", type=click.FloatRange(min=0.1), default=None, help="Seconds.")
@click.option("--once", is_flag=True, help="Push one scrape and exit (cron, CI).")
@_CONFIG
@_TEXTFILE
def push_command(
    url: str | None,
    job: str | None,
    instance: str | None,
    interval: float | None,
    once: bool,
    config_path: Path | None,
    textfile_dir: Path | None,
) -> None:
    """Push scrapes to a Prometheus Pushgateway (every --interval seconds, or --once).

    \b
    Examples:
      opsforge agent push --gateway http://127.0.0.1:9091 --once
      opsforge agent push --config agent.yml          # push: section of the config
    """
    config = _config(config_path, textfile_dir)
    base = config.push or PushConfig(url="")
    push = PushConfig(
        url=(url or base.url).rstrip("/"),
        job=job or base.job,
        instance=instance or base.instance,
        interval=interval or base.interval,
    )
    if not push.url:
        raise click.UsageError("give --gateway URL or a push: section in --config")
    if not push.url.startswith(("http://", "https://")):
        raise click.BadParameter("must start with http:// or https://", param_hint="--gateway")
    _push_loop(Agent(config), push, stop_on_sigterm(), once=once)
