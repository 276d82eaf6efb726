"""Load a playbook file: plays (and imported playbooks), their roles, tasks and handlers.

Loading reads every file the playbook names statically (task files, roles, vars
files are read when the play starts, since their names may be templates) and
fails with ``file:line`` on the first problem; :mod:`.validate` then checks
templates, expressions and files before anything runs.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from opsforge.deploy.playbook.keywords import PLAY_KEYWORDS, UNSUPPORTED_KEYWORDS
from opsforge.deploy.playbook.model import Block, Node, Play, Playbook, Task, VarPrompt
from opsforge.deploy.playbook.modules import canonical_name
from opsforge.deploy.playbook.roles import RoleSet, role_dirs
from opsforge.deploy.playbook.tasks import Scope, error_at, parse_tasks
from opsforge.deploy.playbook.yaml_lines import LineDict, LineList, load_file
from opsforge.vault import VaultSecrets

__all__ = ["FLUSH_HANDLERS", "load_playbook"]

_MAX_IMPORTS = 20
#: the implicit handler flush after pre_tasks, after roles+tasks and after post_tasks
FLUSH_HANDLERS = "flush_handlers"


def load_playbook(path: str | os.PathLike[str], secrets: VaultSecrets | None = None) -> Playbook:
    """Parse ``path`` (and every playbook it imports)."""
    name = os.path.abspath(os.fspath(path))
    plays = _load_plays(name, secrets or VaultSecrets(), depth=0)
    if not plays:
        raise error_at("the playbook has no plays", f"{os.fspath(path)}:1")
    return Playbook(path=name, plays=tuple(plays))


def _load_plays(path: str, secrets: VaultSecrets, depth: int) -> list[Play]:
    if depth > _MAX_IMPORTS:
        raise error_at("import_playbook nested too deep (an import loop?)", f"{path}:1")
    data = load_file(path, secrets)
    if data is None:
        return []
    if not isinstance(data, LineList):
        raise error_at("a playbook must be a list of plays", f"{path}:1")
    plays: list[Play] = []
    for entry in data:
        if not isinstance(entry, LineDict):
            raise error_at(f"a play must be a mapping, got {entry!r}", data.at())
        imported = next(
            (k for k in entry if isinstance(k, str) and canonical_name(k) == "import_playbook"),
            None,
        )
        if imported is not None:
            target = entry[imported]
            if not isinstance(target, str) or "{{" in target:
                raise error_at("import_playbook needs a literal file name", entry.at(imported))
            full = os.path.normpath(os.path.join(os.path.dirname(path), target))
            if not os.path.isfile(full):
                raise error_at(f"imported playbook {target!r} not found", entry.at(imported))
            extra = set(entry) - {imported, "name", "vars", "tags", "when"}
            if extra:
                key = sorted(extra, key=str)[0]
                raise error_at(f"unknown keyword '{key}' for import_playbook", entry.at(key))
            for play in _load_plays(full, secrets, depth + 1):
                plays.append(_wrap_import(play, entry))
            continue
        plays.append(_load_play(entry, path, secrets))
    return plays


def _wrap_import(play: Play, entry: LineDict) -> Play:
    """vars on an import_playbook line are play vars of every imported play."""
    if not isinstance(entry.get("vars"), dict):
        return play
    return replace(play, vars={**entry["vars"], **play.vars})


def _flush(origin: str, scope: Scope) -> Task:
    return Task(
        module="meta",
        args={"_raw_params": FLUSH_HANDLERS},
        name="",
        origin=origin,
        keywords={"implicit": True},
        base_dir=scope.base_dir,
    )


def _load_play(data: LineDict, path: str, secrets: VaultSecrets) -> Play:
    for key in data:
        if key == "connection" and data[key] in ("local", "ssh", "smart"):
            continue
        if key in UNSUPPORTED_KEYWORDS:
            raise error_at(f"keyword '{key}': {UNSUPPORTED_KEYWORDS[key]}", data.at(key))
        if key not in PLAY_KEYWORDS:
            hint = " (a task list must sit under 'tasks:')" if key in ("name", "hosts") else ""
            raise error_at(f"unknown play keyword '{key}'{hint}", data.at(key))
    if "hosts" not in data:
        raise error_at("a play needs 'hosts'", data.at())
    playbook_dir = os.path.dirname(path)
    roles = RoleSet(role_dirs(playbook_dir))
    handlers: list[Task] = []
    base = Scope(path=path, secrets=secrets, playbook_dir=playbook_dir,
                 load_role=roles.load, handlers=handlers)  # fmt: skip
    scope = base.inherit(data)
    scope = replace(scope, vars=())  # play vars are their own layer
    if isinstance(data.get("strategy"), str) and data["strategy"] not in ("linear", "free"):
        raise error_at(f"strategy '{data['strategy']}' is not supported", data.at("strategy"))
    play_vars = data.get("vars") or {}
    if not isinstance(play_vars, dict):
        raise error_at("play vars must be a mapping", data.at("vars"))
    nodes: list[Node] = []
    nodes.extend(parse_tasks(data.get("pre_tasks"), scope, data.at("pre_tasks"), what="pre_tasks"))
    nodes.append(_flush(data.at(), scope))
    for entry in _role_entries(data):
        role_name = entry.get("role") or entry.get("name")
        if not isinstance(role_name, str) or not role_name:
            raise error_at("a roles entry needs a role name", entry.at())
        role_scope = scope.inherit(entry)
        role_scope = replace(role_scope, vars=scope.vars)
        body, role_handlers = roles.load(role_name, entry, role_scope, entry.at())
        nodes.append(body)
        handlers.extend(role_handlers)
    nodes.extend(parse_tasks(data.get("tasks"), scope, data.at("tasks")))
    nodes.append(_flush(data.at(), scope))
    nodes.extend(parse_tasks(data.get("post_tasks"), scope, data.at("post_tasks"),
                             what="post_tasks"))  # fmt: skip
    nodes.append(_flush(data.at(), scope))
    for node in parse_tasks(data.get("handlers"), scope, data.at("handlers"), what="handlers"):
        if not isinstance(node, Task):
            raise error_at("handlers cannot be blocks", node.origin)
        handlers.append(node)
    keywords = {k: v for k, v in data.items() if k not in ("vars", "tasks", "pre_tasks",
                "post_tasks", "handlers", "roles", "vars_files")}  # fmt: skip
    return Play(
        name=str(data.get("name") or data.get("hosts") or ""),
        hosts=data["hosts"],
        origin=data.at(),
        keywords=keywords,
        vars=play_vars,
        vars_files=_vars_files(data),
        body=Block(tasks=tuple(nodes), origin=data.at()),
        handlers=tuple(handlers),
        roles=tuple(roles.roles),
        base_dir=playbook_dir,
        prompts=_prompts(data),
    )


_PROMPT_KEYS = frozenset({"name", "prompt", "default", "private", "confirm", "unsafe"})


def _prompts(data: LineDict) -> tuple[VarPrompt, ...]:
    raw = data.get("vars_prompt")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise error_at("vars_prompt must be a list", data.at("vars_prompt"))
    prompts = []
    for item in raw:
        where = item.at() if isinstance(item, LineDict) else data.at("vars_prompt")
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise error_at("a vars_prompt entry needs a name", where)
        for key in item:
            if key in ("encrypt", "salt", "salt_size"):
                raise error_at(f"vars_prompt: '{key}' is not supported yet", where)
            if key not in _PROMPT_KEYS:
                raise error_at(f"vars_prompt: unknown key '{key}'", where)
        private, confirm = item.get("private", True), item.get("confirm", False)
        if not isinstance(private, bool) or not isinstance(confirm, bool):
            raise error_at("vars_prompt: private and confirm are true or false", where)
        prompts.append(VarPrompt(item["name"], str(item.get("prompt") or item["name"]), where,
                                 item.get("default"), private, confirm))  # fmt: skip
    return tuple(prompts)


def _role_entries(data: LineDict) -> list[LineDict]:
    raw = data.get("roles")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise error_at("roles must be a list", data.at("roles"))
    entries = []
    for item in raw:
        if isinstance(item, str):
            entry = LineDict(role=item)
            entry.path, entry.line = data.path, getattr(raw, "line", data.line)
            entries.append(entry)
        elif isinstance(item, LineDict):
            entries.append(item)
        else:
            raise error_at(f"a roles entry must be a name or a mapping, got {item!r}",
                           data.at("roles"))  # fmt: skip
    return entries


def _vars_files(data: LineDict) -> tuple[tuple[Any, str], ...]:
    raw = data.get("vars_files")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raw = [raw]
    origin = data.at("vars_files")
    return tuple((item, origin) for item in raw)


def implicit(task: Task) -> bool:
    return bool(task.keywords.get("implicit"))


__all__ += ["Block", "implicit"]
