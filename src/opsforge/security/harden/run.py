"""``opsforge harden``: audit, then apply the remediations as a deploy, then log in again.

One connection per host (the pool) carries all three steps:

1. the audit (its facts in one round trip, plus the wire read);
2. a deploy of the remediations (:func:`harden_deploy`): its facts in one round trip,
   its changes in one script — the sshd file tested with ``sshd -t`` before it
   counts, and a handler that reloads sshd only when that file changed;
3. unless ``--check``: on every host whose sshd config changed, a *new* SSH login.
   If it fails, the previous config is put back and sshd reloaded over the session
   that is still open, and the host is reported failed — harden never locks the
   operator out.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from opsforge.connectors.pool import ConnectionPool
from opsforge.deploy import HostContext, files, server
from opsforge.deploy.commands import quote
from opsforge.deploy.events import OperationResult, OpStatus
from opsforge.deploy.planner import DeploySettings
from opsforge.deploy.run import DeployRun
from opsforge.deploy.run import build_plan as build_deploy_plan
from opsforge.engine import Event, Executor, HostOutcome, RunSummary, run_host_plan
from opsforge.errors import ConnectError, OpsforgeError
from opsforge.security.audit import AuditSettings, HostAudit, build_audit_plan
from opsforge.security.audit.baseline_rules import APT_PERIODIC_FILE
from opsforge.security.harden.remediation import Remediation, plan_remediation
from opsforge.security.harden.sshd_op import PREVIOUS_SUFFIX, SshdConfig
from opsforge.templating import TemplateEngine
from opsforge.types import Become, ConnectOptions, HostSpec, HostStatus

__all__ = ["HardenResult", "HardenRun", "harden_deploy", "run_harden"]

RELOAD_HANDLER = "reload sshd"
APT_PERIODIC = 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n'
LOGIN_ATTEMPTS = 15
LOGIN_PAUSE = 0.2


@dataclass(frozen=True)
class HardenRun:
    specs: Sequence[HostSpec]
    settings: AuditSettings
    connect: ConnectOptions
    become: Become | None = None
    check: bool = False
    forks: int = 50
    serial: Sequence[int | str] | None = None
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class HardenResult:
    """Filled while the run goes: what each host's audit saw and what harden planned."""

    audits: dict[str, HostAudit] = field(default_factory=dict)
    remediations: dict[str, Remediation] = field(default_factory=dict)
    rolled_back: dict[str, str] = field(default_factory=dict)


def _fix(host: HostContext, fix: tuple[str, ...]) -> None:
    kind = fix[0]
    if kind == "mode":
        _, path, mode, owner, group = fix
        files.file(host, path, mode=mode, owner=owner, group=group)
    elif kind == "chmod":
        path = quote(fix[1])
        server.shell(
            host,
            f"chmod o-w {path}",
            onlyif=f'[ -n "$(find {path} -maxdepth 0 -perm -0002)" ]',
            name=f"chmod o-w {fix[1]}",
        )
    elif kind == "lock":
        user = quote(fix[1])
        empty = f"awk -F: -v u={user} '$1==u && $2==\"\" {{f=1}} END {{exit !f}}'"
        server.shell(
            host,
            f"passwd -l {user}",
            onlyif=f"{empty} /etc/shadow || {empty} /etc/passwd",
            name=f"lock account {fix[1]} (empty password)",
        )
    elif kind == "apt-periodic":
        files.copy(host, dest=APT_PERIODIC_FILE, content=APT_PERIODIC, mode="0644")


def harden_deploy(remediations: dict[str, Remediation]) -> Callable[[HostContext], None]:
    """The deploy function declaring each host's remediations as operations."""

    def deploy(host: HostContext) -> None:
        plan = remediations.get(host.name)
        if plan is None:
            return
        if plan.banner is not None:
            path, text = plan.banner
            files.copy(host, dest=path, content=text, force=False, mode="0644")
        if plan.target is not None and plan.sshd_lines:
            target = plan.target
            op = SshdConfig(target.path, target.main_config, plan.sshd_lines, target.drop_in)
            host.add(op, notify=RELOAD_HANDLER if plan.reload_command else ())
        for fix in plan.file_fixes:
            _fix(host, fix)

        if plan.reload_command:

            @host.handler(RELOAD_HANDLER)
            def _(h: HostContext) -> None:
                server.shell(h, plan.reload_command, name="reload sshd (sshd -t, then SIGHUP)")

    return deploy


async def _login_again(spec: HostSpec, options: ConnectOptions) -> str | None:
    """None when a new connection logs in and runs a command; else why not."""
    error = "no attempt"
    for _ in range(LOGIN_ATTEMPTS):
        pool = ConnectionPool(options)
        try:
            conn = await pool.get(spec)
            result = await conn.run("true")
            if result.exit_code == 0:
                return None
            error = f"a command after login exited {result.exit_code}"
        except ConnectError as exc:
            error = exc.message
        finally:
            await pool.close_all()
        await asyncio.sleep(LOGIN_PAUSE)
    return error


async def _verify(
    spec: HostSpec, plan: Remediation, pool: ConnectionPool, run: HardenRun
) -> str | None:
    """Log in anew; keep the change (drop the backup) or put the previous config back."""
    assert plan.target is not None
    path = quote(plan.target.path)
    prev = quote(plan.target.path + PREVIOUS_SUFFIX)
    conn = await pool.get(spec)
    error = await _login_again(spec, run.connect)
    if error is None:
        await conn.run(f"rm -f {prev}", become=run.become)
        return None
    restore = f"if [ -e {prev} ]; then mv -f {prev} {path}; else rm -f {path}; fi"
    result = await conn.run(f"{restore}; {plan.reload_command}", become=run.become)
    state = "rolled back" if result.exit_code == 0 else "ROLLBACK FAILED"
    return f"new logins failed after the sshd change ({error}); {state} to the previous config"


async def run_harden(
    run: HardenRun,
    result: HardenResult,
    pool: ConnectionPool,
    subscribers: Sequence[Callable[[Event], None]],
    hook: Callable[[Executor], None],
) -> tuple[RunSummary, dict[str, HostOutcome]]:
    """The three steps of the module docstring over ``pool``."""
    await run_host_plan(
        build_audit_plan(run.specs, pool, run.settings, run.become, result.audits),
        forks=run.forks,
        executor_hook=hook,
    )
    specs = {spec.name: spec for spec in run.specs}
    for name, audit in result.audits.items():
        if audit.sshd is not None:
            result.remediations[name] = plan_remediation(audit, specs[name], run.settings.policy)
    settings = DeploySettings(base_dir=".", templates=TemplateEngine([]), become=run.become)
    deploy = DeployRun(harden_deploy(result.remediations), settings, run.check, run.groups)
    changed: set[str] = set()

    def watch(event: Event) -> None:
        if (
            isinstance(event, OperationResult)
            and event.op == SshdConfig.kind
            and event.status == OpStatus.CHANGED
        ):
            changed.add(event.host)

    summary, outcomes = await run_host_plan(
        build_deploy_plan(run.specs, pool, deploy),
        forks=run.forks,
        serial=run.serial,
        subscribers=[*subscribers, watch],
        executor_hook=hook,
    )
    if run.check or not changed:
        return summary, outcomes
    names = sorted(changed)
    verdicts = await asyncio.gather(
        *(_verify(specs[h], result.remediations[h], pool, run) for h in names),
        return_exceptions=True,
    )
    statuses = dict(summary.host_status)
    for name, verdict in zip(names, verdicts, strict=True):
        if isinstance(verdict, OpsforgeError):
            verdict = f"could not verify a new login: {verdict}"
        elif isinstance(verdict, BaseException):
            raise verdict
        if verdict is None:
            continue
        result.rolled_back[name] = verdict
        statuses[name] = HostStatus.FAILED
        old = outcomes[name]
        outcomes[name] = HostOutcome(name, HostStatus.FAILED, old.result, verdict, old.data)
    return dataclasses.replace(summary, host_status=statuses), outcomes
