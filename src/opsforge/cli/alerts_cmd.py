"""``opsforge alerts rules|receive``: alerting rules for the agent, and the webhook receiver."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import click
from rich.markup import escape

from opsforge.cli.console import err_console
from opsforge.cli.serving import serve_until_stopped
from opsforge.observe.agent import parse_listen
from opsforge.observe.alerts.actions import ReceiverConfig, load_receiver_config
from opsforge.observe.alerts.receiver import AlertReceiver, HandledAlert, make_receiver_server
from opsforge.observe.alerts.rules import RuleSettings, rules_yaml
from opsforge.state import state_dir


@click.group("alerts")
def alerts_group() -> None:
    """Prometheus alerting rules for the agent's metrics; Alertmanager webhook receiver."""


def _job_regex(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if '"' in value or "\\" in value:
        raise click.BadParameter("quotes and backslashes are not allowed")
    try:
        re.compile(value)
    except re.error as exc:
        raise click.BadParameter(f"not a valid regular expression: {exc}") from None
    return value


@alerts_group.command("rules")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the rules file here (atomically) instead of stdout.",
)
@click.option(
    "--job", default="", callback=_job_regex, help="Regex of the agent's scrape job(s) [all]."
)
@click.option("--disk-free-percent", type=click.FloatRange(0, 100), default=10.0, show_default=True)
@click.option("--disk-fill-hours", type=click.FloatRange(min=1), default=24.0, show_default=True)
@click.option(
    "--memory-available-percent", type=click.FloatRange(0, 100), default=10.0, show_default=True
)
@click.option("--load-per-cpu", type=click.FloatRange(min=0), default=2.0, show_default=True)
@click.option("--clock-skew-seconds", type=click.FloatRange(min=0), default=30.0, show_default=True)
@click.option("--unit-restarts-per-hour", type=click.IntRange(min=0), default=5, show_default=True)
@click.option("--cert-days", type=click.FloatRange(min=0), default=14.0, show_default=True)
@click.option(
    "--for-scale",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Multiply every 'for:' duration (0: fire at once, for staging and tests).",
)
def rules_command(output: Path | None, job: str, **thresholds: float) -> None:
    """Write Prometheus alerting rules: host down, disk filling (predict_linear) and almost
    full, memory pressure, high load, clock skew, unit restarts/failures, failing checks,
    expiring certificates. Validate with `promtool check rules FILE`.

    \b
    Examples:
      opsforge alerts rules -o /etc/prometheus/rules/opsforge.yml --job node
      opsforge alerts rules --disk-free-percent 15 --cert-days 21
    """
    settings = RuleSettings(job=job, **thresholds)  # type: ignore[arg-type]
    text = rules_yaml(settings)
    if output is None:
        click.echo(text, nl=False)
        return
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(output)
    click.echo(f"wrote {output}", err=True)


def _print_handled(handled: HandledAlert) -> None:
    alert = handled.alert
    actions = ", ".join(handled.actions) or "recorded"
    state = "[green]ok[/green]" if handled.ok else "[red]failed[/red]"
    err_console.print(
        f"alert {escape(alert.name)} [bold]{alert.status}[/bold] on {escape(handled.host)}"
        f" ({alert.fingerprint}): {escape(actions)} {state} — run {handled.run_id}"
    )


@alerts_group.command("receive")
@click.option(
    "--listen", default="127.0.0.1:9095", show_default=True, metavar="HOST:PORT",
    help="Address for Alertmanager's webhook_configs url.",
)  # fmt: skip
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Receiver config (YAML): inventory, host_label, actions.",
)
@click.option("-i", "--inventory", help="Inventory for actions (overrides the config's).")
def receive_command(listen: str, config_path: Path | None, inventory: str | None) -> None:
    """Receive Alertmanager webhooks (payload v4): de-duplicate by fingerprint, record every
    alert in the run history (`opsforge runs list`), run matching actions on the alerting
    host (`opsforge exec` / `opsforge apply`, each a recorded run of its own).

    \b
    Alertmanager:
      receivers:
        - name: opsforge
          webhook_configs: [{url: 'http://127.0.0.1:9095/alerts'}]
    Examples:
      opsforge alerts receive
      opsforge alerts receive --listen 0.0.0.0:9095 -c remediation.yml -i inventory.yml
    """
    config = load_receiver_config(config_path) if config_path else ReceiverConfig()
    if inventory:
        config = replace(config, inventory=inventory)
    try:
        host, port = parse_listen(listen)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--listen") from None
    receiver = AlertReceiver(config, state_dir(), on_handled=_print_handled)
    server = make_receiver_server(host, port, receiver)
    actions = ", ".join(a.name for a in config.actions) or "none"
    err_console.print(f"alerts: receiving on http://{escape(listen)}/ (actions: {escape(actions)})")
    try:
        serve_until_stopped(server, "alerts-http")
    finally:
        receiver.close()
    err_console.print("alerts: stopped")
