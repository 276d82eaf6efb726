"""Options shared by every command that targets hosts, and how they become HostSpecs."""

from __future__ import annotations

import getpass
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.text import Text

from opsforge.adhoc import FanOut
from opsforge.cli.console import err_console
from opsforge.errors import UsageError
from opsforge.inventory import Inventory, load_inventory
from opsforge.types import Become, ConnectOptions, HostKeyPolicy, HostSpec, Secret
from opsforge.vault import VaultSecrets

F = TypeVar("F", bound=Callable[..., Any])

INVENTORY_ENV = ("OPSFORGE_INVENTORY", "ANSIBLE_INVENTORY")
BECOME_PASSWORD_ENV = "OPSFORGE_BECOME_PASSWORD"


def inventory_option(func: F) -> F:
    """``-i/--inventory``, repeatable; defaults to $OPSFORGE_INVENTORY / $ANSIBLE_INVENTORY."""
    return click.option(
        "-i",
        "--inventory",
        "inventory",
        multiple=True,
        metavar="SOURCE",
        help="Inventory file or directory (Ansible INI/YAML, *.py), or a comma list "
        "'host1,user@host2:2222' ('@local' is this machine). Repeatable.",
    )(func)


def target_options(func: F) -> F:
    """Every option of a fan-out command (inventory, connection, become, engine)."""
    options = [
        inventory_option,
        click.option("-l", "--limit", metavar="PATTERN", help="Further limit the selection."),
        click.option(
            "-f",
            "--forks",
            type=click.IntRange(1, 5000),
            default=50,
            show_default=True,
            help="Hosts worked on at once.",
        ),
        click.option(
            "--serial",
            metavar="N|N%[,..]",
            help="Rolling batches: '1', '25%', '1,5,50%' (the last repeats).",
        ),
        click.option("--fail-fast", is_flag=True, help="Start no new host after a failure."),
        click.option(
            "--max-fail-percentage",
            type=click.FloatRange(0, 100),
            default=None,
            help="With --serial: stop the rollout when more than this share of a batch failed.",
        ),
        click.option(
            "--retries",
            type=click.IntRange(0, 100),
            default=0,
            show_default=True,
            help="Retries of a failed host, with backoff.",
        ),
        click.option("-u", "--user", help="Remote user (overrides the inventory)."),
        click.option(
            "--private-key",
            "--key",
            "private_key",
            type=click.Path(dir_okay=False),
            help="SSH private key file.",
        ),
        click.option(
            "--host-key-policy",
            type=click.Choice([p.value for p in HostKeyPolicy]),
            default=HostKeyPolicy.STRICT.value,
            show_default=True,
            help="Check host keys against known_hosts: refuse unknown (strict), "
            "record unknown (accept-new), or not at all (off).",
        ),
        click.option(
            "--known-hosts",
            type=click.Path(dir_okay=False),
            help="known_hosts file (default ~/.ssh/known_hosts).",
        ),
        click.option(
            "--ssh-config",
            type=click.Path(dir_okay=False),
            help="OpenSSH client config (default ~/.ssh/config).",
        ),
        click.option(
            "--connect-timeout",
            type=click.FloatRange(0.1),
            default=10.0,
            show_default=True,
            help="Seconds to wait for a connection.",
        ),
        click.option("-b", "--become", is_flag=True, help="Run with sudo."),
        click.option("--become-user", default=None, help="sudo to this user (default root)."),
        click.option(
            "-K",
            "--ask-become-pass",
            is_flag=True,
            help=f"Prompt for the sudo password (or set ${BECOME_PASSWORD_ENV}).",
        ),
        click.option(
            "-o",
            "--output",
            type=click.Choice(["text", "json"]),
            default="text",
            show_default=True,
            help="json: JSON Lines events on stdout, for machines.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@dataclass(frozen=True)
class Targets:
    """What a fan-out command resolved from its options."""

    specs: list[HostSpec]
    connect: ConnectOptions
    fanout: FanOut
    output: str
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    max_fail_percentage: float | None = None
    inventory: Inventory | None = None  # what the hosts were selected from


def parse_serial(text: str | None) -> list[int | str] | None:
    """``'1,5,25%'`` -> ``[1, 5, '25%']``."""
    if not text:
        return None
    parts: list[int | str] = []
    for raw in text.split(","):
        item = raw.strip()
        if re.fullmatch(r"\d+(\.\d+)?%", item):
            parts.append(item)
        elif item.isdigit() and int(item) > 0:
            parts.append(int(item))
        else:
            raise UsageError(f"--serial: '{item}' is neither a count (1) nor a percentage (25%)")
    return parts


def load_sources(
    sources: tuple[str, ...], vault: VaultSecrets | None = None, vars_dirs: Sequence[Path] = ()
) -> Inventory:
    chosen = list(sources)
    if not chosen:
        for name in INVENTORY_ENV:
            if os.environ.get(name):
                chosen = [s for s in os.environ[name].split(os.pathsep) if s]
                break
    if not chosen:
        raise UsageError(
            "no inventory: give -i FILE|DIR|host1,host2 (or set $OPSFORGE_INVENTORY); "
            "try 'opsforge lab up 3' for a local one"
        )
    vault = vault if vault else VaultSecrets.from_env()
    inventory = load_inventory(chosen, vault=vault, vars_dirs=vars_dirs)
    for warning in inventory.warnings:
        err_console.print(Text.assemble(("warning: ", "yellow"), warning))
    return inventory


def _become_password(ask: bool) -> Secret | None:
    if ask:
        if not sys.stdin.isatty():
            raise UsageError(f"--ask-become-pass needs a terminal; set ${BECOME_PASSWORD_ENV}")
        return Secret(getpass.getpass("BECOME password: "))
    value = os.environ.get(BECOME_PASSWORD_ENV)
    return Secret(value) if value else None


def resolve_targets(
    pattern: str,
    params: dict[str, Any],
    vault: VaultSecrets | None = None,
    vars_dirs: Sequence[Path] = (),
) -> Targets:
    """Load the inventory, select hosts and apply the command-line overrides.

    ``vault`` (else the vault password environment variables) decrypts vaulted
    inventory files and values; ``vars_dirs`` add ``group_vars``/``host_vars`` (a
    playbook's directory)."""
    inventory = load_sources(params["inventory"], vault, vars_dirs)
    hosts = inventory.select(pattern, params.get("limit"))
    if not hosts:
        raise UsageError(f"pattern '{pattern}' matched no hosts")
    password = _become_password(params["ask_become_pass"])
    specs = []
    for host in hosts:
        spec = host.spec()
        if params["user"]:
            spec = replace(spec, user=params["user"])
        if params["private_key"]:
            spec = replace(spec, identity_files=(str(Path(params["private_key"]).expanduser()),))
        if spec.become is not None and password is not None and spec.become.password is None:
            spec = replace(spec, become=replace(spec.become, password=password))
        specs.append(spec)
    become = None
    if params["become"] or params["become_user"]:
        become = Become(user=params["become_user"] or "root", password=password)
    connect = ConnectOptions(
        connect_timeout=params["connect_timeout"],
        host_key_policy=HostKeyPolicy(params["host_key_policy"]),
        known_hosts=params["known_hosts"],
        ssh_config=params["ssh_config"],
    )
    fanout = FanOut(
        forks=params["forks"],
        serial=parse_serial(params["serial"]),
        fail_fast=params["fail_fast"],
        retries=params["retries"],
        become=become,
    )
    return Targets(
        specs=specs,
        connect=connect,
        fanout=fanout,
        output=params["output"],
        groups={host.name: tuple(host.groups) for host in hosts},
        max_fail_percentage=params["max_fail_percentage"],
        inventory=inventory,
    )
