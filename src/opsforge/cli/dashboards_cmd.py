"""``opsforge dashboards generate``: Grafana dashboards and provisioning files."""

from __future__ import annotations

from pathlib import Path

import click

from opsforge.observe.dashboards import write_dashboards


@click.group("dashboards")
def dashboards_group() -> None:
    """Grafana dashboards for the agent, log analysis and opsforge's own runs."""


@dashboards_group.command("generate")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("grafana"),
    show_default=True,
    help="Directory for dashboards/ and provisioning/.",
)
@click.option(
    "--prometheus-url",
    default="http://127.0.0.1:9090",
    show_default=True,
    help="URL of the Prometheus datasource Grafana should query.",
)
def generate_command(output: Path, prometheus_url: str) -> None:
    """Write dashboard JSON (host/agent, log templates, opsforge runs) and Grafana
    provisioning YAML (datasource, dashboard provider) into OUTPUT.

    \b
    Examples:
      opsforge dashboards generate -o /var/lib/grafana/opsforge \\
          --prometheus-url http://prometheus:9090
      # then in grafana.ini: [paths] provisioning = /var/lib/grafana/opsforge/provisioning
    """
    if not prometheus_url.startswith(("http://", "https://")):
        raise click.BadParameter(
            "must start with http:// or https://", param_hint="--prometheus-url"
        )
    for path in write_dashboards(output, prometheus_url):
        click.echo(str(path))
