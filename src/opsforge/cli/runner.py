"""Drive one fan-out run from the CLI: renderers, run history, Ctrl-C, exit code."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable

from rich.markup import escape

from opsforge.adhoc import HostOutcome, Task, run_fanout
from opsforge.cli.console import err_console
from opsforge.cli.render import JsonLinesRenderer, TextRenderer
from opsforge.cli.targets import Targets
from opsforge.connectors.pool import ConnectionPool
from opsforge.engine import Event, Executor, ExitCode, RunSummary
from opsforge.errors import StateError
from opsforge.state import RunRecorder, state_dir


def _subscribers(
    targets: Targets, command: str, group_output: bool
) -> tuple[list[Callable[[Event], None]], TextRenderer | None]:
    subscribers: list[Callable[[Event], None]] = []
    text: TextRenderer | None = None
    if targets.output == "json":
        subscribers.append(JsonLinesRenderer())
    else:
        text = TextRenderer([s.name for s in targets.specs], group_output=group_output)
        subscribers.append(text)
    try:
        subscribers.append(RunRecorder(state_dir(), command=command, argv=sys.argv[1:]))
    except StateError as exc:  # history is a record, never a reason to refuse a run
        err_console.print(f"[yellow]warning:[/yellow] run history disabled: {escape(str(exc))}")
    return subscribers, text


async def _run(
    targets: Targets, task: Task, subscribers: list[Callable[[Event], None]]
) -> tuple[RunSummary, dict[str, HostOutcome]]:
    loop = asyncio.get_running_loop()
    pool = ConnectionPool(targets.connect)
    presses = 0

    def hook(executor: Executor) -> None:
        def interrupt() -> None:
            nonlocal presses
            presses += 1
            if presses == 1:
                err_console.print(
                    "[yellow]interrupt: stopping running commands "
                    "(press Ctrl-C again to quit at once)[/yellow]"
                )
                executor.cancel()
            else:
                raise KeyboardInterrupt

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, interrupt)

    try:
        return await run_fanout(
            targets.specs, task, pool, targets.fanout, subscribers=subscribers, executor_hook=hook
        )
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await pool.close_all()


def execute(targets: Targets, task: Task, *, command: str, group_output: bool = False) -> int:
    """Run ``task`` over ``targets``; render; return the documented exit code."""
    subscribers, text = _subscribers(targets, command, group_output)
    summary, outcomes = asyncio.run(_run(targets, task, subscribers))
    if text is not None:
        if group_output:
            text.print_grouped(outcomes)
        text.print_recap(summary, outcomes)
    return int(summary.exit_code()) if summary else int(ExitCode.INTERNAL)
