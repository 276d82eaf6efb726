"""The ``opsforge`` command: the root group, error boundary and exit codes."""

from __future__ import annotations

import atexit
import contextlib
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from opsforge import __version__
from opsforge.cli.console import err_console, escape
from opsforge.cli.entry import gc_paused
from opsforge.engine.exitcodes import ExitCode
from opsforge.errors import ConnectError, InputError, OpsforgeError, UsageError

EPILOG = """\b
Examples:
  opsforge lab up 3                                 # three local sshd hosts
  opsforge exec all -i ~/.local/state/opsforge/lab/inventory.yml -- uptime
  opsforge exec 'web:&prod' -i inventory.ini --forks 100 -- systemctl is-active nginx
  opsforge exec all -i host1,host2:2222,admin@host3 --group-output -- cat /etc/os-release
  opsforge copy web -i inventory.yml ./app.conf /etc/app.conf --mode 0644 --become
  opsforge fetch all -i inventory.yml /etc/hostname ./collected/
  opsforge inventory graph -i inventory.ini
  opsforge runs list
  opsforge agent serve --listen 0.0.0.0:9101              # node_exporter-compatible /metrics
  opsforge alerts rules -o opsforge.rules.yml

\b
Exit codes:
  0    every host succeeded
  1    a command failed or timed out on at least one host
  2    usage or input error (bad option, malformed inventory, unknown pattern)
  3    at least one host was unreachable, refused login or had a bad host key
  4    internal error (a bug in opsforge: please report it)
  130  interrupted (Ctrl-C); the recap of what ran is still printed
"""


class LazyGroup(click.Group):
    """Imports a subcommand's module only when that subcommand runs (fast --version)."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, _, attr = self.lazy[cmd_name].partition(":")
            with gc_paused():
                self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return super().get_command(ctx, cmd_name)


SUBCOMMANDS = {
    "apply": "opsforge.cli.apply_cmd:apply_command",
    "audit": "opsforge.cli.audit_cmd:audit_command",
    "exec": "opsforge.cli.exec_cmd:exec_command",
    "copy": "opsforge.cli.transfer_cmd:copy_command",
    "fetch": "opsforge.cli.transfer_cmd:fetch_command",
    "harden": "opsforge.cli.harden_cmd:harden_command",
    "inventory": "opsforge.cli.inventory_cmd:inventory_group",
    "lab": "opsforge.cli.lab_cmd:lab_group",
    "runs": "opsforge.cli.runs_cmd:runs_group",
    "pipeline": "opsforge.cli.pipeline_cmd:pipeline_group",
    "scan": "opsforge.cli.scan_cmd:scan_command",
    "completion": "opsforge.cli.completion:completion_command",
    "logs": "opsforge.cli.logs_cmd:logs_group",
    "agent": "opsforge.cli.agent_cmd:agent_group",
    "alerts": "opsforge.cli.alerts_cmd:alerts_group",
    "dashboards": "opsforge.cli.dashboards_cmd:dashboards_group",
}


@click.group(
    cls=LazyGroup,
    lazy=SUBCOMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EPILOG,
)
@click.version_option(__version__, "-V", "--version", prog_name="opsforge")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, debug: bool) -> None:
    """opsforge: run commands and push files to fleets over SSH, fast.

    Inventories are Ansible-compatible (INI, YAML, group_vars/host_vars), or a
    comma list (-i host1,host2:2222,user@host3), or @local for this machine.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if verbose < 2:
        logging.getLogger("asyncssh").setLevel(logging.WARNING)
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _exit_code_for(error: OpsforgeError) -> ExitCode:
    if isinstance(error, InputError | UsageError):
        return ExitCode.USAGE
    if isinstance(error, ConnectError):
        return ExitCode.UNREACHABLE
    return ExitCode.FAILED


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the console script; never lets a traceback reach the user.

    Run as the program (``argv`` None), it leaves through :func:`_leave`: the
    interpreter's teardown (freeing every object of every module, tens of ms) is
    skipped; called with ``argv`` (from Python), it raises ``SystemExit`` as usual.
    """
    try:
        _main(argv)
    except SystemExit as exc:
        if argv is not None:
            raise
        _leave(exc.code)


def _leave(code: object) -> NoReturn:
    """Exit now with ``code`` (``sys.exit`` semantics) after the ``atexit`` handlers and a
    flush of stdout and stderr. Every file opsforge writes is closed (and fsynced where it
    matters) before this point; only the teardown of Python objects is skipped."""
    if isinstance(code, str):
        sys.stderr.write(code + "\n")
    status = code if isinstance(code, int) else (0 if code is None else 1)
    atexit._run_exitfuncs()  # logging's shutdown, thread pools: what teardown would run
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to deliver
            stream.flush()
    os._exit(status)


def _main(argv: Sequence[str] | None) -> None:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        code = cli.main(args=argv, prog_name="opsforge", standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("[red]interrupted[/red]")
        sys.exit(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.USAGE)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except OpsforgeError as exc:
        err_console.print("[bold red]error:[/bold red] " + escape(str(exc)))
        from opsforge.cli.ci_annotations import annotate_error  # only on errors: fast start

        annotate_error(exc)
        sys.exit(_exit_code_for(exc))
    except KeyboardInterrupt:
        err_console.print("[red]interrupted[/red]")
        sys.exit(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(ExitCode.OK)
    except Exception as exc:  # the last error boundary: a bug in opsforge
        if debug:
            traceback.print_exc()
        err_console.print(
            "[bold red]internal error:[/bold red] "
            + escape(f"{type(exc).__name__}: {exc}\n")
            + "This is a bug in opsforge; run again with --debug for the traceback."
        )
        sys.exit(ExitCode.INTERNAL)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)
