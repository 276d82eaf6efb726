"""Parse task lists: tasks, blocks and imports, with everything they inherit resolved.

Every error names ``file:line`` of the task or key at fault.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from opsforge.deploy.playbook.keywords import (
    BLOCK_KEYWORDS,
    INHERITED,
    TASK_KEYWORDS,
    UNSUPPORTED_KEYWORDS,
    parse_kv,
)
from opsforge.deploy.playbook.model import Block, Cond, Node, Role, Task
from opsforge.deploy.playbook.modules import (
    NOT_YET,
    canonical_name,
    is_module_name,
    lookup_module,
    normalize_args,
)
from opsforge.deploy.playbook.yaml_lines import LineDict, LineList, load_file, where
from opsforge.errors import InputError
from opsforge.vault import VaultSecrets

__all__ = ["Scope", "error_at", "parse_tags", "parse_tasks", "parse_when"]

_STATIC_INCLUDES = frozenset({"import_tasks", "import_role"})
_DYNAMIC_INCLUDES = frozenset({"include_tasks", "include_role", "include"})
_MAX_DEPTH = 40


def error_at(message: str, origin: str) -> InputError:
    """An InputError at ``file:line``."""
    path, _, line = origin.rpartition(":")
    if path and line.isdigit():
        return InputError(message, path=path, line=int(line))
    return InputError(message, path=origin or None)


def parse_when(value: Any, origin: str) -> tuple[Cond, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    return tuple(Cond(item, origin) for item in items)


def parse_tags(value: Any, origin: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    items = value if isinstance(value, list) else str(value).split(",")
    out = set()
    for item in items:
        if isinstance(item, list | dict):
            raise error_at(f"tags must be strings, got {item!r}", origin)
        text = str(item).strip()
        if text:
            out.add(text)
    return frozenset(out)


#: (name, keywords the role entry gave, params, origin) -> the role's body; for include_role
RoleLoader = Callable[[str, Mapping[str, Any], "Scope", str], tuple[Block, tuple[Task, ...]]]


@dataclass(frozen=True)
class Scope:
    """What tasks in one place inherit, and how to find the files they import."""

    path: str  # the file being parsed
    secrets: VaultSecrets
    playbook_dir: str
    keywords: Mapping[str, Any] = field(default_factory=dict)  # inherited keywords
    when: tuple[Cond, ...] = ()
    tags: frozenset[str] = frozenset()
    vars: tuple[Mapping[str, Any], ...] = ()
    role: Role | None = None
    depth: int = 0
    load_role: RoleLoader | None = None
    handlers: list[Task] | None = None  # where included roles put their handlers

    @property
    def base_dir(self) -> str:
        return os.path.dirname(self.path)

    def inherit(self, data: LineDict, *, conditions: bool = True) -> Scope:
        """This scope plus the inheritable keywords, when, tags and vars of ``data``."""
        keywords = dict(self.keywords)
        keywords.update({k: v for k, v in data.items() if k in INHERITED})
        if data.get("module_defaults") is not None:
            keywords["module_defaults"] = _merge_defaults(
                keywords.get("module_defaults") or {}, data["module_defaults"],
                data.at("module_defaults"),
            )  # fmt: skip
        when = self.when + (parse_when(data.get("when"), data.at("when")) if conditions else ())
        tags = (
            self.tags | parse_tags(data.get("tags"), data.at("tags")) if conditions else self.tags
        )
        vars_ = self.vars
        if data.get("vars") is not None:
            if not isinstance(data["vars"], dict):
                raise error_at("vars must be a mapping", data.at("vars"))
            vars_ = (*vars_, data["vars"])
        return replace(self, keywords=keywords, when=when, tags=tags, vars=vars_)

    def find_tasks_file(self, name: str) -> str:
        """An imported task file: beside the current file, in the role's tasks/, or
        under the playbook's directory."""
        expanded = os.path.expanduser(name)
        if os.path.isabs(expanded):
            return expanded
        bases = [self.base_dir]
        if self.role is not None:
            bases.append(os.path.join(self.role.path, "tasks"))
        bases.append(self.playbook_dir)
        for base in bases:
            candidate = os.path.normpath(os.path.join(base, expanded))
            if os.path.isfile(candidate):
                return candidate
        return os.path.normpath(os.path.join(bases[0], expanded))


def parse_tasks(data: Any, scope: Scope, origin: str, *, what: str = "tasks") -> tuple[Node, ...]:
    """A list of tasks/blocks (None: empty)."""
    if data is None:
        return ()
    if not isinstance(data, list):
        raise error_at(f"{what} must be a list of tasks", where(data, fallback=origin))
    if scope.depth > _MAX_DEPTH:
        raise error_at(f"imports nested more than {_MAX_DEPTH} deep (an import loop?)", origin)
    nodes: list[Node] = []
    for item in data:
        if not isinstance(item, LineDict):
            raise error_at(
                f"a task must be a mapping, got {type(item).__name__} {item!r}",
                where(data, fallback=origin),
            )
        if "block" in item:
            nodes.append(_parse_block(item, scope))
        else:
            nodes.extend(_parse_task(item, scope))
    return tuple(nodes)


def _check_keywords(data: LineDict, allowed: frozenset[str], module: str | None) -> None:
    for key in data:
        if key == module:
            continue
        if key in UNSUPPORTED_KEYWORDS:
            raise error_at(f"keyword '{key}': {UNSUPPORTED_KEYWORDS[key]}", data.at(key))
        if key not in allowed:
            raise error_at(f"unknown keyword '{key}'", data.at(key))


def _parse_block(data: LineDict, scope: Scope) -> Block:
    _check_keywords(data, BLOCK_KEYWORDS, None)
    inner = scope.inherit(data)
    if data.get("notify") is not None:
        inner = replace(inner, keywords={**inner.keywords, "notify": data["notify"]})
    return Block(
        tasks=parse_tasks(data.get("block"), inner, data.at("block"), what="block"),
        rescue=parse_tasks(data.get("rescue"), inner, data.at("rescue"), what="rescue"),
        always=parse_tasks(data.get("always"), inner, data.at("always"), what="always"),
        origin=data.at(),
    )


def _module_of(data: LineDict) -> tuple[str, Any, bool]:
    """(module name as written, its raw args, delegated to localhost)."""
    candidates = [k for k in data if k not in TASK_KEYWORDS and k not in UNSUPPORTED_KEYWORDS]
    modules = [k for k in candidates if isinstance(k, str) and is_module_name(k)]
    for action_key in ("action", "local_action"):
        if action_key in data:
            value = data[action_key]
            if isinstance(value, dict):
                value = LineDict(value)
                name = value.pop("module", None)
                if not name:
                    raise error_at(f"{action_key}: name the module", data.at(action_key))
                return str(name), value, action_key == "local_action"
            if not isinstance(value, str) or not value.strip():
                raise error_at(f"{action_key}: expected 'module args'", data.at(action_key))
            name, _, rest = value.strip().partition(" ")
            return name, rest.strip(), action_key == "local_action"
    if len(modules) > 1:
        raise error_at(f"a task has one module, found: {', '.join(modules)}", data.at())
    others = [k for k in candidates if k not in modules]
    if modules:
        if others:
            raise error_at(f"unknown keyword '{others[0]}'", data.at(others[0]))
        return modules[0], data[modules[0]], False
    if others:
        raise error_at(f"unknown module '{others[0]}'", data.at(others[0]))
    raise error_at("no module in this task (e.g. 'copy:', 'shell:')", data.at())


def module_args(name: str, raw: Any, extra: Any, origin: str) -> tuple[str, dict[str, Any]]:
    """The canonical module name and its normalized arguments."""
    short = canonical_name(name)
    spec = lookup_module(name)
    if spec is None:
        if short in NOT_YET:
            raise error_at(f"module '{name}' is not supported yet", origin)
        raise error_at(f"unknown module '{name}'", origin)
    args: dict[str, Any] = {}
    if extra is not None:
        if not isinstance(extra, dict):
            raise error_at("args must be a mapping", origin)
        args.update(extra)
    if isinstance(raw, dict):
        args.update(raw)
    elif isinstance(raw, str):
        parsed, free = parse_kv(raw, free_form=spec.free_form)
        args.update(parsed)
        if free is not None:
            args["_raw_params"] = free
    elif raw is not None:
        if spec.free_form and isinstance(raw, int | float | bool):
            args["_raw_params"] = str(raw)
        else:
            raise error_at(f"{short}: arguments must be a mapping or 'k=v' text", origin)
    return spec.name, normalize_args(spec, args, origin)


def _merge_defaults(outer: Mapping[str, Any], inner: Any, origin: str) -> dict[str, dict[str, Any]]:
    """``module_defaults`` of a play/block/task merged over the enclosing ones, per module
    (short names: ``ansible.builtin.file`` and ``file`` are one entry)."""
    if not isinstance(inner, Mapping):
        raise error_at("module_defaults must be a mapping of module -> arguments", origin)
    merged = {name: dict(args) for name, args in outer.items()}
    for name, args in inner.items():
        if str(name).startswith("group/"):
            raise error_at(f"module_defaults: action groups ({name}) are not supported yet",
                           origin)  # fmt: skip
        if not isinstance(args, Mapping):
            raise error_at(f"module_defaults: {name}: arguments must be a mapping", origin)
        key = canonical_name(str(name))
        merged[key] = {**merged.get(key, {}), **args}
    return merged


def _parse_task(data: LineDict, scope: Scope) -> list[Node]:
    name, raw, local = _module_of(data)
    _check_keywords(data, TASK_KEYWORDS, name)
    origin = data.at(name) if name in data else data.at()
    module, args = module_args(name, raw, data.get("args"), origin)
    if module in _STATIC_INCLUDES:
        return [_import(module, args, data, scope, origin)]
    inner = scope.inherit(data)
    defaults = (inner.keywords.get("module_defaults") or {}).get(module)
    if defaults:  # the task's own arguments win
        spec = lookup_module(module)
        assert spec is not None
        args = {**normalize_args(spec, dict(defaults), origin, partial=True), **args}
    keywords = dict(inner.keywords)
    keywords.update({k: v for k, v in data.items() if k in TASK_KEYWORDS and k not in INHERITED})
    keywords.pop("module_defaults", None)
    if local:
        keywords["delegate_to"] = "localhost"
    for key in ("when", "tags", "vars", "name", "args", "action", "local_action"):
        keywords.pop(key, None)
    task = Task(
        module=module,
        args=args,
        name=str(data.get("name") or ""),
        origin=data.at(),
        keywords=keywords,
        when=inner.when,
        tags=inner.tags,
        vars=inner.vars,
        role=scope.role,
        listen=tuple(_listen(data)),
        base_dir=scope.base_dir,
    )
    if module in _DYNAMIC_INCLUDES:
        task = replace(task, children=_include_children(module, args, data, scope, origin))
    return [task]


def _listen(data: LineDict) -> list[str]:
    value = data.get("listen")
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _static_name(args: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if args.get(key) is not None:
            return args[key]
    return None


def _import(module: str, args: dict[str, Any], data: LineDict, scope: Scope, origin: str) -> Block:
    """import_tasks / import_role: the imported tasks, inline, with this task's settings."""
    inner = scope.inherit(data)
    if module == "import_tasks":
        name = _static_name(args, ("file", "_raw_params"))
        if not isinstance(name, str) or not name:
            raise error_at("import_tasks: name the file", origin)
        if "{{" in name:
            raise error_at(
                "import_tasks: the file name cannot be a template (use include_tasks)", origin
            )
        return Block(tasks=_load_tasks_file(name, inner, origin), origin=origin)
    role_name = _static_name(args, ("name", "_raw_params"))
    if not isinstance(role_name, str) or not role_name or "{{" in role_name:
        raise error_at("import_role: name the role (a literal name)", origin)
    if scope.load_role is None:
        raise error_at("import_role is not allowed here", origin)
    body, handlers = scope.load_role(role_name, args, inner, origin)
    if scope.handlers is not None:
        scope.handlers.extend(handlers)
    return body


def _include_children(
    module: str, args: dict[str, Any], data: LineDict, scope: Scope, origin: str
) -> Block | None:
    """The content of an include with a literal name, loaded now (None: templated name,
    loaded when the include runs)."""
    inner = replace(scope.inherit(data, conditions=False), depth=scope.depth + 1)
    if module in ("include_tasks", "include"):
        name = _static_name(args, ("file", "_raw_params"))
        if not isinstance(name, str) or not name:
            raise error_at(f"{module}: name the file", origin)
        if "{{" in name:
            return None
        return Block(tasks=_load_tasks_file(name, inner, origin), origin=origin)
    role_name = _static_name(args, ("name", "_raw_params"))
    if not isinstance(role_name, str) or not role_name:
        raise error_at("include_role: name the role", origin)
    if "{{" in role_name:
        return None
    if scope.load_role is None:
        raise error_at("include_role is not allowed here", origin)
    body, handlers = scope.load_role(role_name, args, inner, origin)
    if scope.handlers is not None:
        scope.handlers.extend(handlers)
    return body


def load_tasks_file(name: str, scope: Scope, origin: str) -> tuple[Node, ...]:
    """Load a task file named by an import/include at ``origin``."""
    return _load_tasks_file(name, scope, origin)


def _load_tasks_file(name: str, scope: Scope, origin: str) -> tuple[Node, ...]:
    path = scope.find_tasks_file(name)
    if not os.path.isfile(path):
        raise error_at(f"task file {name!r} not found (looked for {path})", origin)
    data = load_file(path, scope.secrets)
    inner = replace(scope, path=path, depth=scope.depth + 1)
    if data is None:
        return ()
    if not isinstance(data, LineList):
        raise error_at("a task file must be a list of tasks", f"{path}:1")
    return parse_tasks(data, inner, f"{path}:1")
