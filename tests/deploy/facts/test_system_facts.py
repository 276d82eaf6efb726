"""Facts of the system operations (packages, services, users, system state, git): the parsers
as spec cases (``packages.yml``, ``services.yml``, ``users.yml``, ``system_state.yml``,
``git.yml``), and the read-only commands run for real on this machine through the local
connector, all in one round trip."""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsforge.connectors.local import LocalConnector
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.git import GitCheckout
from opsforge.deploy.facts.packages import (
    ApkPackages,
    ApkUpgrades,
    AptCacheAge,
    AptPolicy,
    DebPackages,
    DnfUpdates,
    PackageManager,
    RpmPackages,
)
from opsforge.deploy.facts.packages_pip import PipDryRun, PipPackages
from opsforge.deploy.facts.services import ServiceStatus
from opsforge.deploy.facts.system_state import Crontab, Hostname, Mounts, SysctlValue
from opsforge.deploy.facts.users import AuthorizedKeys, Groups, PasswordHash, Users
from opsforge.types import HostSpec

from ..operations.system_facts import plain, subset

HERE = Path(__file__).parent
SPECS = {
    "packages": ("packages", "packages_pip"),
    "services": ("services",),
    "users": ("users",),
    "system_state": ("system_state",),
    "git": ("git",),
}


def _fact_class(spec: str, name: str) -> Any:
    for module in SPECS[spec]:
        found = getattr(importlib.import_module(f"opsforge.deploy.facts.{module}"), name, None)
        if found is not None:
            return found
    raise AssertionError(f"no fact class {name} for {spec}.yml")


def _cases() -> list[Any]:
    params = []
    for spec in SPECS:
        for kind, cases in yaml.safe_load((HERE / f"{spec}.yml").read_text()).items():
            for name, case in cases.items():
                params.append(pytest.param(spec, kind, case, id=f"{spec}.{kind}: {name}"))
    return params


@pytest.mark.parametrize(("spec", "kind", "case"), _cases())
def test_parser_spec(spec: str, kind: str, case: dict[str, Any]) -> None:
    assert set(case) <= {"fact", "output", "exit_code", "value", "value_has", "error"}, case
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in case["fact"].items()}
    fact: Fact[Any] = _fact_class(spec, kind)(**args)
    assert fact.command()
    output, code = case.get("output", ""), case.get("exit_code", 0)
    if "error" in case:
        with pytest.raises(ValueError, match=re.escape(case["error"])):
            fact.parse(output, code)
        return
    value = plain(fact.parse(output, code))
    if "value" in case:
        assert value == case["value"]
    if "value_has" in case:
        subset(case["value_has"], value, kind)


def test_parse_errors_never_show_a_password_hash() -> None:
    for output in ("$6$leak$x\n", "hash", "garbage $6$leak$x"):
        value = PasswordHash("app").parse(output, 0)
        assert value is not None
        assert "leak" not in str(value)
        assert "leak" not in repr(value)


def _every_command() -> list[Fact[Any]]:
    odd = 'it\'s a "path" with spaces'
    return [
        DebPackages(), RpmPackages(), ApkPackages(), AptCacheAge(), PackageManager(),
        AptPolicy(("a", "b")), DnfUpdates(("a",)), ApkUpgrades(("a",)),
        PipPackages(f"/{odd}"), PipPackages(None, "pip3"), PipDryRun("-U x", f"/{odd}", None, "/"),
        ServiceStatus("x"), Users(), Groups(), PasswordHash("x"), AuthorizedKeys("x"),
        AuthorizedKeys("x", "~/k"), AuthorizedKeys("x", f"/{odd}"), Crontab(None), Crontab("x"),
        SysctlValue("a.b"), Hostname(), Mounts(),
        GitCheckout(f"/{odd}", f"/{odd}.git"), GitCheckout("/d", "/r", "v1", update=False),
        GitCheckout("/d", "r", "a" * 40, accept_hostkey=True, key_file=f"/{odd}"),
    ]  # fmt: skip


@pytest.mark.parametrize("fact", _every_command(), ids=repr)
def test_every_command_is_valid_sh(fact: Fact[Any]) -> None:
    """Branches this machine cannot take (systemd, OpenRC, dnf, apk) are still valid sh."""
    for command in (fact.command(), type(fact).command_many([fact, fact])):
        if command is not None:
            checked = subprocess.run(["sh", "-n"], input=command, text=True, capture_output=True)
            assert checked.returncode == 0, checked.stderr


def _gather(*wanted: Fact[Any]) -> FactCache:
    async def main() -> FactCache:
        cache = FactCache("local")
        async with LocalConnector(HostSpec("local", connector="local")) as conn:
            await cache.gather(conn, wanted)
        return cache

    return asyncio.run(main())


def _has(binary: str) -> bool:
    return any(os.access(os.path.join(d, binary), os.X_OK) for d in os.environ["PATH"].split(":"))


def test_read_only_facts_on_this_machine() -> None:
    """Every read-only fact command against this host, in one round trip; the values
    agree with what Python reads itself."""
    wanted: list[Fact[Any]] = [
        PackageManager(),
        DebPackages(),
        RpmPackages(),
        AptCacheAge(),
        Users(),
        Groups(),
        Hostname(),
        Mounts(),
        SysctlValue("kernel.ostype"),
        SysctlValue("kernel.no_such_parameter"),
        ServiceStatus("opsforge-no-such-service"),
        ServiceStatus("opsforge-no-such-service-2"),
        ServiceStatus("ssh"),
        Crontab(None),
        ApkPackages(),
        DnfUpdates(("bash",)),
        ApkUpgrades(("bash",)),
    ]
    if _has("apt-cache"):
        wanted += [AptPolicy(("bash",)), AptPolicy(("coreutils", "opsforge-no-such-package"))]
    if os.geteuid() == 0:
        wanted += [PasswordHash("root"), AuthorizedKeys("root"), PasswordHash("no-such-user")]
    cache = _gather(*wanted)
    assert cache.round_trips == 1
    users = cache.get(Users())
    assert users["root"].uid == 0
    assert cache.get(Groups())["root"].gid == 0
    assert cache.get(Hostname()) == socket.gethostname()
    assert any(m.path == "/" for m in cache.get(Mounts()))
    assert cache.get(SysctlValue("kernel.ostype")) == "Linux"
    assert cache.get(SysctlValue("kernel.no_such_parameter")) is None
    for name in ("opsforge-no-such-service", "opsforge-no-such-service-2"):  # one batch
        service = cache.get(ServiceStatus(name))
        assert not service.exists
        assert not service.running
    ssh = cache.get(ServiceStatus("ssh"))
    systemd = Path("/run/systemd/system").is_dir()
    assert ssh.manager == ("systemd" if systemd else ssh.manager)
    if not systemd:
        assert ssh.exists == os.access("/etc/init.d/ssh", os.X_OK)
    assert cache.get(RpmPackages()) is None or _has("rpm")
    debs = cache.get(DebPackages())
    if _has("dpkg-query"):
        assert debs is not None
        assert debs["bash"].installed
        assert "apt-get" in cache.get(PackageManager())
    if _has("apt-cache"):
        policy = cache.get(AptPolicy(("bash",)))
        assert policy is not None
        assert debs is not None
        assert policy["bash"].installed == debs["bash"].version
        known = cache.get(AptPolicy(("coreutils", "opsforge-no-such-package")))
        assert known is not None
        assert set(known) == {"coreutils"}
    if not _has("apk"):
        assert cache.get(ApkPackages()) is None
        assert cache.get(ApkUpgrades(("bash",))) is None
    if not (_has("dnf") or _has("yum")):
        assert cache.get(DnfUpdates(("bash",))) is None
    if not _has("crontab"):
        assert cache.get(Crontab(None)) is None
    if os.geteuid() == 0:
        root_hash = cache.get(PasswordHash("root"))
        assert root_hash is not None
        assert root_hash.reveal() == _shadow("root")
        assert cache.get(PasswordHash("no-such-user")) is None
        keys = cache.get(AuthorizedKeys("root"))
        path = Path(users["root"].home) / ".ssh" / "authorized_keys"
        assert keys.user_exists
        assert keys.path == str(path)
        assert keys.content == (path.read_text() if path.is_file() else None)


def _shadow(user: str) -> str:
    for line in Path("/etc/shadow").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name == user:
            return rest.split(":")[0]
    return ""
