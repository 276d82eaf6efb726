"""The Alertmanager webhook receiver: de-duplicate, record in the run history, act.

``POST`` (any path) takes an Alertmanager v4 payload. Each alert occurrence not seen
before (:class:`~opsforge.observe.alerts.ledger.AlertLedger`) is queued; the answer
(200, or 400 for a malformed payload) does not wait for actions. A worker turns each
batch of new alerts into one engine run — one step per alert on the alerting host —
recorded by the run history like every opsforge run (``opsforge runs list`` shows it as
``alert``; ``runs show --events`` has the alert's labels, annotations and the action's
output). A matching action runs as its own ``opsforge exec``/``apply`` run, recorded
in the same history: the audit trail of what was done about which alert.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from opsforge.engine import Plan, RunSummary, Step, StepContext, run_host_plan
from opsforge.observe.alerts.actions import ReceiverConfig, action_argv, alert_host
from opsforge.observe.alerts.ledger import AlertLedger
from opsforge.observe.alerts.payload import Alert, PayloadError, parse_payload
from opsforge.observe.errors import ListenError
from opsforge.state import ENV_VAR, RunRecorder
from opsforge.types import Result

__all__ = ["AlertReceiver", "HandledAlert", "ReceiverServer", "make_receiver_server"]

logger = logging.getLogger("opsforge.observe.alerts")

#: the host of a step for an alert that names no host
NO_HOST = "alertmanager"
_MAX_BODY = 8 * 2**20


@dataclass(frozen=True, slots=True)
class HandledAlert:
    """What happened to one alert: for the receiver's log line."""

    alert: Alert
    host: str
    run_id: str
    actions: tuple[str, ...]
    ok: bool


class AlertReceiver:
    """De-duplicates and queues alerts; a worker thread runs them (see the module doc)."""

    def __init__(
        self,
        config: ReceiverConfig,
        state_dir: Path,
        *,
        on_handled: Callable[[HandledAlert], None] | None = None,
    ) -> None:
        self.config = config
        self.state_dir = state_dir
        self.ledger = AlertLedger(state_dir)
        self.on_handled = on_handled
        self._queue: queue.Queue[tuple[Alert, ...] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="alert-worker", daemon=True)
        self._worker.start()

    def submit(self, alerts: Sequence[Alert]) -> tuple[int, int]:
        """Queue the alerts not handled before; (new, duplicates)."""
        new = tuple(a for a in alerts if self.ledger.claim(a))
        if new:
            self._queue.put(new)
        return len(new), len(alerts) - len(new)

    def close(self, timeout: float = 60.0) -> None:
        """Finish what is queued, then stop the worker."""
        self._queue.put(None)
        self._worker.join(timeout)
        self.ledger.close()

    def _work(self) -> None:
        while (batch := self._queue.get()) is not None:
            try:
                self.handle(batch)
            except Exception:  # keep receiving; the failure is in the log
                logger.exception("handling %d alert(s) failed", len(batch))

    def _step(self, alert: Alert) -> Step:
        host = alert_host(alert, self.config.host_label)
        actions = [a for a in self.config.actions if a.matches(alert)]
        env = dict(os.environ, **{ENV_VAR: str(self.state_dir)})

        async def run(ctx: StepContext) -> Result:
            ctx.emit_output("stdout", json.dumps({"alert": alert.to_dict()}) + "\n")
            for action in actions:
                if host is None or self.config.inventory is None:
                    why = "no inventory" if host else f"no {self.config.host_label!r} label"
                    ctx.emit_output("stderr", f"action {action.name}: cannot run: {why}\n")
                    return Result(command=action.describe(), exit_code=2, host=ctx.step.host)
                argv = action_argv(action, alert, host, self.config.inventory)
                ctx.emit_output("stdout", f"action {action.name}: {action.describe()}\n")
                proc = await asyncio.create_subprocess_exec(
                    *argv,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.STDOUT,
                    stdin=asyncio.subprocess.DEVNULL,
                    env=env,
                )
                assert proc.stdout is not None
                async for line in proc.stdout:
                    ctx.emit_output("stdout", line.decode("utf-8", "replace"))
                code = await proc.wait()
                ctx.emit_output("stdout", f"action {action.name}: exit {code}\n")
                if code != 0:
                    return Result(command=action.describe(), exit_code=code, host=ctx.step.host)
            return Result(command="record", exit_code=0, host=ctx.step.host)

        timeout = sum(a.timeout for a in actions) + 60.0
        return Step(
            id=f"{alert.name or 'alert'}:{alert.fingerprint}:{alert.status}",
            host=host or NO_HOST,
            action=run,
            timeout=timeout,
            description=" + ".join(a.name for a in actions) or "record",
        )

    def handle(self, alerts: Sequence[Alert]) -> RunSummary:
        """One run for ``alerts`` (already de-duplicated), recorded in the history."""
        steps = [self._step(a) for a in alerts]
        names = sorted({a.name for a in alerts})
        recorder = RunRecorder(
            self.state_dir,
            command="alert",
            argv=["alert", ",".join(names), *sorted({a.status for a in alerts})],
        )
        summary, outcomes = asyncio.run(
            run_host_plan(Plan(steps=tuple(steps)), forks=8, subscribers=[recorder])
        )
        for alert, step in zip(alerts, steps, strict=True):
            self.ledger.set_run(alert, summary.run_id)
            if self.on_handled is not None:
                outcome = outcomes.get(step.host)
                self.on_handled(
                    HandledAlert(
                        alert=alert,
                        host=step.host,
                        run_id=summary.run_id,
                        actions=tuple(a.name for a in self.config.actions if a.matches(alert)),
                        ok=bool(outcome and outcome.ok),
                    )
                )
        return summary


class _Handler(BaseHTTPRequestHandler):
    server: ReceiverServer
    protocol_version = "HTTP/1.1"
    server_version = "opsforge-alerts"
    timeout = 300  # an idle kept-alive connection is closed after this many seconds

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def _reply(self, status: int, data: dict[str, Any]) -> None:
        body = (json.dumps(data) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] in ("/", "/-/healthy"):
            self._reply(200, {"status": "ok"})
        else:
            self._reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._reply(411, {"error": "Content-Length required"})
            return
        if not 0 <= length <= _MAX_BODY:
            self._reply(413, {"error": "payload too large"})
            return
        body = self.rfile.read(length)
        try:
            notification = parse_payload(body)
        except PayloadError as exc:
            logger.warning("rejected a payload: %s", exc)
            self._reply(400, {"error": str(exc)})
            return
        new, duplicates = self.server.receiver.submit(notification.alerts)
        self._reply(200, {"accepted": new, "duplicates": duplicates})


class ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], receiver: AlertReceiver) -> None:
        self.receiver = receiver
        super().__init__(address, _Handler)


def make_receiver_server(host: str, port: int, receiver: AlertReceiver) -> ReceiverServer:
    try:
        return ReceiverServer((host, port), receiver)
    except OSError as exc:
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
