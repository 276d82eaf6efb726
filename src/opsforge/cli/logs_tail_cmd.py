"""``opsforge logs tail PATTERN -i INVENTORY -- PATH``: one file followed on many hosts."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click
from rich.text import Text

from opsforge.cli.console import err_console, out_console
from opsforge.cli.targets import resolve_targets, target_options
from opsforge.errors import UsageError
from opsforge.observe.logs.parsing import FormatChoice, choose_parser, parse_lines
from opsforge.observe.logs.remote_tail import tail_hosts

_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "red")


class _Printer:
    """Parses each host's lines with the format its first line shows; prints them."""

    def __init__(self, as_json: bool, hosts: list[str]) -> None:
        self.as_json = as_json
        self.width = max(map(len, hosts), default=0)
        self.colour = {host: _COLOURS[i % len(_COLOURS)] for i, host in enumerate(hosts)}
        self.choices: dict[str, FormatChoice] = {}

    def line(self, host: str, line: str) -> None:
        choice = self.choices.get(host)
        if choice is None:
            choice = self.choices[host] = choose_parser("auto", [line])
        for record in parse_lines([line], choice):
            record.pop("log.file.line", None)
            record["opsforge.host"] = host
            if self.as_json:
                click.echo(json.dumps(record, ensure_ascii=False, default=str))
                continue
            level = str(record.get("log.level", ""))
            out_console.print(
                Text.assemble(
                    (f"{host:<{self.width}}", self.colour[host]),
                    " | ",
                    (f"{level:<7} " if level else "", "bold"),
                    str(record.get("message", line)),
                )
            )

    def error(self, host: str, message: str) -> None:
        err_console.print(Text.assemble((f"{host}: ", "bold red"), message))


@click.command("tail", context_settings={"ignore_unknown_options": True})
@click.argument("pattern")
@click.argument("path", nargs=-1, required=True, type=click.UNPROCESSED)
@target_options
@click.option(
    "-n",
    "--lines",
    type=click.IntRange(0),
    default=10,
    show_default=True,
    help="Start this many lines back on each host.",
)
@click.option("--json", "as_json", is_flag=True, help="One parsed record (JSON) per line.")
def tail_command(
    pattern: str, path: tuple[str, ...], lines: int, as_json: bool, **params: Any
) -> None:
    """Follow a file on every host matching PATTERN, merged and host-prefixed.

    Lines are parsed on the fly (format detected per host from its first line).
    Ctrl-C stops, and the remote tail processes are killed.

    \b
      opsforge logs tail web -i inventory.ini -- /var/log/nginx/error.log
      opsforge logs tail 'db:&prod' -i inv.yml --json -n 0 -- /var/log/postgresql/main.log
    """
    if len(path) != 1:
        raise UsageError("give exactly one file after '--': opsforge logs tail PATTERN -- PATH")
    targets = resolve_targets(pattern, params)
    printer = _Printer(as_json, [spec.name for spec in targets.specs])
    asyncio.run(
        tail_hosts(
            targets.specs, targets.connect, path[0], printer.line, printer.error, lines=lines
        )
    )
