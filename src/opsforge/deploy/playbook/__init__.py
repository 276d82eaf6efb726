"""Ansible playbooks and roles, run unchanged: ``opsforge apply site.yml -i inventory``.

::

    playbook = load_playbook("site.yml", secrets)        # file:line on every error
    run = prepare(playbook, inventory=inv, specs=specs, options=RunOptions(check=True))
    summary, outcomes = await run_playbook(run, pool, subscribers)

Loading parses every play, role and task file and :func:`check_playbook` checks
every module, keyword, template, expression and file before anything runs. Each
play runs as one engine plan (a step per host) with its ``serial`` and
``max_fail_percentage``; on a host, tasks are planned ahead against facts gathered
in one round trip and applied in one script until a task needs the result of an
earlier one (:mod:`.host_run`). Modules are registered by name
(:func:`register_module`); see ``docs/playbooks.md`` for the supported subset.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from opsforge.deploy.playbook.load import load_playbook
from opsforge.deploy.playbook.model import Play, Playbook, Role, Task
from opsforge.deploy.playbook.modules import (
    NOT_YET,
    BuildEnv,
    ModuleCall,
    ModuleSpec,
    OpCall,
    register_module,
)
from opsforge.deploy.playbook.run import PlaybookRun, PlayStarted, run_playbook
from opsforge.deploy.playbook.state import RunOptions
from opsforge.deploy.playbook.validate import check_playbook
from opsforge.deploy.playbook.yaml_lines import load_file
from opsforge.errors import InputError, UsageError
from opsforge.inventory import Inventory
from opsforge.templating import TemplateEngine
from opsforge.types import HostSpec, Secret
from opsforge.vault import VaultSecrets, read_file

__all__ = [
    "NOT_YET",
    "BuildEnv",
    "ModuleCall",
    "ModuleSpec",
    "OpCall",
    "Play",
    "PlayStarted",
    "Playbook",
    "PlaybookRun",
    "Role",
    "RunOptions",
    "Task",
    "check_playbook",
    "load_playbook",
    "parse_extra_vars",
    "prepare",
    "register_module",
    "run_playbook",
]


def parse_extra_vars(values: Sequence[str], secrets: VaultSecrets) -> dict[str, Any]:
    """``-e`` values: ``k=v k2=v2``, JSON/YAML ``{...}``, or ``@file.yml``; later wins."""
    from opsforge.deploy.playbook.keywords import parse_kv
    from opsforge.deploy.playbook.yaml_lines import load_text

    out: dict[str, Any] = {}
    for value in values:
        text = value.strip()
        if text.startswith("@"):
            data = load_file(os.path.expanduser(text[1:]), secrets)
        elif text.startswith(("{", "[")):
            data = load_text(text, secrets, "<extra vars>")
        else:
            data, _ = parse_kv(text, free_form=False)
            if "_raw_params" in data:
                raise UsageError(f"-e {value!r}: expected key=value, JSON/YAML or @file")
        if not isinstance(data, Mapping):
            raise UsageError(f"-e {value!r}: expected a mapping of variables")
        out.update(data)
    return out


def _answer_prompts(playbook: Playbook, options: RunOptions) -> Playbook:
    """Every ``vars_prompt`` answered before anything runs: ``-e`` wins, then the terminal,
    then the default; private answers are secrets. They join the play's vars."""
    plays = []
    for play in playbook.plays:
        answers: dict[str, Any] = {}
        for ask in play.prompts:
            if ask.name in options.extra_vars:
                continue
            value: Any = ask.default
            if options.prompt is not None:
                shown = f"{ask.prompt} [{ask.default}]" if ask.default is not None else ask.prompt
                answer = options.prompt(shown, ask.private)
                if ask.confirm and options.prompt(f"confirm {ask.prompt}", ask.private) != answer:
                    raise UsageError(f"vars_prompt '{ask.name}': the answers do not match")
                value = answer or ask.default
            if value is None:
                raise UsageError(
                    f"{ask.origin}: vars_prompt '{ask.name}' has no value and there is no "
                    f"terminal to ask on: give -e {ask.name}=... or a default"
                )
            answers[ask.name] = (
                Secret(str(value)) if ask.private and value != ask.default else value
            )
        plays.append(dataclasses.replace(play, vars={**play.vars, **answers}) if answers else play)
    return dataclasses.replace(playbook, plays=tuple(plays))


def prepare(
    path: str | os.PathLike[str],
    *,
    inventory: Inventory,
    specs: Sequence[HostSpec],
    options: RunOptions,
    serial: Sequence[int | str] | None = None,
    max_fail_percentage: float | None = None,
) -> PlaybookRun:
    """Load and check the playbook at ``path``; the run it makes over ``specs``."""
    playbook = load_playbook(path, options.secrets)
    base = Path(playbook.path).parent
    secrets = options.secrets

    def reader(file: Path) -> bytes:
        return read_file(file, secrets)

    engine = TemplateEngine([base], file_reader=reader)
    check_playbook(playbook, engine)
    playbook = _answer_prompts(playbook, options)
    for play in playbook.plays:
        if play.keyword("connection") == "local":
            specs = [HostSpec(name=s.name, connector="local", vars=s.vars) for s in specs]
    if not specs:
        raise InputError("no hosts selected", path=str(path))
    return PlaybookRun(
        playbook=playbook,
        engine=engine,
        options=options,
        inventory=inventory,
        specs=specs,
        serial=serial,
        max_fail_percentage=max_fail_percentage,
    )
