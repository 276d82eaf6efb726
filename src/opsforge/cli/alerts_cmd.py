"""``opsforge alerts rules|receive``: alerting rules for the agent, and the webhook receiver."""

from __future__ import annotations

import re
from pathlib import Path

import click

from opsforge.observe.alerts.rules import RuleSettings, rules_yaml


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
