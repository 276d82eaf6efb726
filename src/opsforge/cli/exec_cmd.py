"""``opsforge exec PATTERN -- COMMAND``: one shell command on many hosts at once."""

from __future__ import annotations

import shlex
import sys
from typing import Any

import click

from opsforge.adhoc import CommandTask
from opsforge.cli.render import TextRenderer
from opsforge.cli.runner import execute, fanout_plan
from opsforge.cli.targets import resolve_targets, target_options
from opsforge.errors import UsageError


def _env_pairs(values: tuple[str, ...]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise UsageError(f"--env '{item}': expected NAME=VALUE")
        env[name] = value
    return env


@click.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("pattern")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@target_options
@click.option(
    "-e",
    "--env",
    "env",
    multiple=True,
    metavar="NAME=VALUE",
    help="Environment variable for the command. Repeatable.",
)
@click.option("--cwd", "--chdir", "cwd", help="Run the command in this directory.")
@click.option(
    "-t",
    "--timeout",
    type=click.FloatRange(0.01),
    default=None,
    help="Seconds per host; on expiry the remote process group is killed.",
)
@click.option(
    "--stdin",
    "stdin_file",
    type=click.File("rb"),
    help="Feed this file ('-' for stdin) to the command on every host.",
)
@click.option(
    "-g",
    "--group-output",
    is_flag=True,
    help="Fold identical outputs into one block listing the hosts.",
)
def exec_command(
    pattern: str,
    command: tuple[str, ...],
    env: tuple[str, ...],
    cwd: str | None,
    timeout: float | None,
    stdin_file: Any,
    group_output: bool,
    **params: Any,
) -> None:
    """Run COMMAND on every host matching PATTERN, in parallel.

    PATTERN uses Ansible's syntax: all, web, 'web:db', 'web:&prod', 'web:!db',
    'web*', '~web0[1-3]'. Put the command after '--'. A single argument is run
    as a shell command line; several are quoted and joined.

    \b
      opsforge exec all -i inventory.ini -- uptime
      opsforge exec web -i inv.yml --become -- 'systemctl restart nginx && echo done'
    """
    line = command[0] if len(command) == 1 else shlex.join(command)
    targets = resolve_targets(pattern, params)
    task = CommandTask(
        command=line,
        env=_env_pairs(env),
        cwd=cwd,
        stdin=stdin_file.read() if stdin_file is not None else None,
        timeout=timeout,
        stream=not group_output,
    )
    text = TextRenderer([s.name for s in targets.specs], group_output=group_output)
    sys.exit(execute(targets, fanout_plan(targets, task), command="exec", text=text))
