"""Roles: find a role directory, load its defaults, vars, meta dependencies, tasks and
handlers, and run each role once per play (unless its meta allows duplicates)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from opsforge.deploy.playbook.model import Block, Node, Role, Task
from opsforge.deploy.playbook.tasks import Scope, error_at, parse_tasks
from opsforge.deploy.playbook.yaml_lines import LineDict, load_file

__all__ = ["ROLE_ENTRY_KEYS", "RoleSet", "role_dirs"]

#: what a ``roles:`` entry may hold besides role parameters
ROLE_ENTRY_KEYS = frozenset(
    {"role", "name", "vars", "tags", "when", "become", "become_user", "become_method",
     "environment", "ignore_errors", "no_log", "check_mode", "diff", "delegate_to",
     "run_once", "any_errors_fatal", "remote_user", "collections"}
)  # fmt: skip
_INCLUDE_ROLE_ARGS = frozenset(
    {"name", "_raw_params", "tasks_from", "vars_from", "defaults_from", "handlers_from",
     "public", "apply", "allow_duplicates", "rolespec_validate"}
)  # fmt: skip


def role_dirs(playbook_dir: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """Where roles are looked for: ``roles/`` beside the playbook, ``$ANSIBLE_ROLES_PATH``
    (relative entries are relative to the playbook), the playbook's directory."""
    env = os.environ if environ is None else environ
    dirs = [os.path.join(playbook_dir, "roles")]
    for entry in env.get("ANSIBLE_ROLES_PATH", "").split(os.pathsep):
        if entry:
            dirs.append(os.path.join(playbook_dir, os.path.expanduser(entry)))
    dirs.append(playbook_dir)
    return dirs


def _main_file(role_path: str, subdir: str, name: str = "main") -> str | None:
    for ext in (".yml", ".yaml", ""):
        candidate = os.path.join(role_path, subdir, name + ext)
        if os.path.isfile(candidate):
            return candidate
    return None


@dataclass
class RoleSet:
    """The roles of one play: loads each once, remembers which already ran."""

    search: list[str]
    seen: set[tuple[str, str]] = field(default_factory=set)
    roles: list[Role] = field(default_factory=list)

    def find(self, name: str, origin: str, near: str | None = None) -> str:
        expanded = os.path.expanduser(name)
        if os.path.isabs(expanded):
            if os.path.isdir(expanded):
                return expanded
            raise error_at(f"role '{name}' not found", origin)
        if "." in name and os.path.sep not in name and name.count(".") >= 2:
            raise error_at(f"role '{name}': collection roles are not supported yet", origin)
        bases = ([near] if near else []) + self.search
        for base in bases:
            candidate = os.path.normpath(os.path.join(base, expanded))
            if os.path.isdir(candidate) and candidate != os.path.normpath(base):
                return candidate
        raise error_at(f"role '{name}' not found (searched {', '.join(bases)})", origin)

    def load(
        self, name: str, entry: Mapping[str, Any], scope: Scope, origin: str
    ) -> tuple[Block, tuple[Task, ...]]:
        """The role's body (dependencies first) and its handlers; an empty body when this
        role already ran in the play with the same parameters."""
        near = os.path.dirname(scope.role.path) if scope.role is not None else None
        path = self.find(name, origin, near)
        params = {k: v for k, v in entry.items() if k not in ROLE_ENTRY_KEYS
                  and k not in _INCLUDE_ROLE_ARGS}  # fmt: skip
        if isinstance(entry.get("vars"), dict):
            params.update(entry["vars"])
        meta_file = _main_file(path, "meta")
        meta = load_file(meta_file, scope.secrets) if meta_file else None
        meta = meta if isinstance(meta, dict) else {}
        key = (path, repr(sorted(params.items(), key=lambda kv: str(kv[0]))))
        tasks_from = str(entry.get("tasks_from") or "main")
        if key in self.seen and not meta.get("allow_duplicates") and tasks_from == "main":
            return Block(tasks=(), origin=origin), ()
        self.seen.add(key)
        role = Role(
            name=os.path.basename(path),
            path=path,
            defaults=self._vars(path, "defaults", entry.get("defaults_from"), scope, origin),
            vars=self._vars(path, "vars", entry.get("vars_from"), scope, origin),
            params=params,
        )
        self.roles.append(role)
        inner = replace(scope, role=role, depth=scope.depth + 1)
        nodes: list[Node] = []
        handlers: list[Task] = []
        for dep in meta.get("dependencies") or ():
            dep_entry = dep if isinstance(dep, dict) else {"role": dep}
            dep_name = dep_entry.get("role") or dep_entry.get("name")
            dep_origin = dep.at() if isinstance(dep, LineDict) else f"{meta_file}:1"
            if not isinstance(dep_name, str):
                raise error_at("a role dependency needs a 'role' name", dep_origin)
            dep_scope = replace(scope, role=role).inherit(LineDict(dep_entry))
            body, dep_handlers = self.load(dep_name, dep_entry, dep_scope, dep_origin)
            nodes.append(body)
            handlers.extend(dep_handlers)
        tasks_file = _main_file(path, "tasks", tasks_from.removesuffix(".yml"))
        if tasks_file is None and tasks_from != "main":
            raise error_at(f"role '{name}': no tasks/{tasks_from} file", origin)
        if tasks_file is not None:
            data = load_file(tasks_file, scope.secrets)
            nodes.extend(parse_tasks(data, replace(inner, path=tasks_file), f"{tasks_file}:1"))
        handlers_from = str(entry.get("handlers_from") or "main")
        handlers_file = _main_file(path, "handlers", handlers_from.removesuffix(".yml"))
        if handlers_file is not None:
            data = load_file(handlers_file, scope.secrets)
            for node in parse_tasks(data, replace(inner, path=handlers_file),
                                    f"{handlers_file}:1", what="handlers"):  # fmt: skip
                if not isinstance(node, Task):
                    raise error_at("handlers cannot be blocks", node.origin)
                handlers.append(node)
        return Block(tasks=tuple(nodes), origin=origin), tuple(handlers)

    def _vars(
        self, path: str, subdir: str, name: Any, scope: Scope, origin: str
    ) -> Mapping[str, Any]:
        file = _main_file(path, subdir, str(name or "main").removesuffix(".yml"))
        if file is None:
            if name:
                raise error_at(f"role {path}: no {subdir}/{name} file", origin)
            return {}
        data = load_file(file, scope.secrets)
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise error_at(f"{subdir} must be a mapping of variables", f"{file}:1")
        return data
