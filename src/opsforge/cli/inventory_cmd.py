"""``opsforge inventory list|graph|host``: what the inventory says, and why."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from opsforge.cli.console import err_console, out_console
from opsforge.cli.targets import inventory_option, load_sources


@click.group("inventory")
def inventory_group() -> None:
    """Show groups, hosts and the merged variables of a host."""


@inventory_group.command("list")
@inventory_option
@click.argument("pattern", default="all")
@click.option("--json", "as_json", is_flag=True, help="ansible-inventory --list style JSON.")
def list_command(inventory: tuple[str, ...], pattern: str, as_json: bool) -> None:
    """List the hosts matching PATTERN (default: all)."""
    inv = load_sources(inventory)
    hosts = inv.select(pattern)
    if as_json:
        click.echo(json.dumps(inv.to_dict(), indent=2, default=str))
        return
    table = Table(box=None, pad_edge=False)
    table.add_column("host", style="bold")
    table.add_column("target")
    table.add_column("groups")
    for host in hosts:
        spec = host.spec()
        target = "local" if spec.connector == "local" else spec.target
        table.add_row(
            Text(host.name), Text(target), Text(", ".join(g for g in host.groups if g != "all"))
        )
    out_console.print(table)
    err_console.print(f"{len(hosts)} host{'s' if len(hosts) != 1 else ''}")


@inventory_group.command("graph")
@inventory_option
def graph_command(inventory: tuple[str, ...]) -> None:
    """Draw the group tree (like ansible-inventory --graph)."""
    click.echo(load_sources(inventory).graph())


@inventory_group.command("host")
@inventory_option
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Variables as JSON (secrets masked).")
def host_command(inventory: tuple[str, ...], name: str, as_json: bool) -> None:
    """Show the merged variables of host NAME and where each value came from."""
    rows = load_sources(inventory).describe_host(name)
    if as_json:
        data: dict[str, Any] = {
            var: {"value": value, "from": origin} for var, value, origin in rows
        }
        click.echo(json.dumps(data, indent=2, default=str))
        return
    table = Table(box=None, pad_edge=False)
    table.add_column("variable", style="bold")
    table.add_column("value", overflow="fold")
    table.add_column("from", style="dim")
    for var, value, origin in rows:
        table.add_row(Text(var), Text(json.dumps(value, default=str)), Text(origin))
    out_console.print(table)
