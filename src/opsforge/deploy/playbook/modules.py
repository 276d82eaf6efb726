"""The module registry: Ansible module names -> what opsforge does for them.

A module is a :class:`ModuleSpec`: the parameters it accepts (with Ansible's
aliases), and either a ``build`` function that turns one task's templated
arguments into :class:`ModuleCall` values (remote work, planned against facts
like any operation), or ``controller=True`` for the modules the executor runs
itself (debug, set_fact, assert, meta, includes, ...).

Adding a module is one :func:`register_module` call: map its name to a builder
that returns calls wrapping operations. Modules known to Ansible that opsforge
does not do yet are listed in :data:`NOT_YET`: a playbook using one is refused
before anything runs.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.operation import Change, Operation, PlanEnv
from opsforge.errors import InputError
from opsforge.templating import TemplateEngine

__all__ = [
    "NOT_YET",
    "BuildEnv",
    "ModuleCall",
    "ModuleSpec",
    "OpCall",
    "Output",
    "canonical_name",
    "lookup_module",
    "normalize_args",
    "register_module",
]

_PREFIXES = ("ansible.builtin.", "ansible.legacy.", "ansible.posix.", "community.general.")

#: Ansible modules known to Ansible that opsforge does not do yet
NOT_YET = frozenset(
    {
        "apt_key",
        "apt_repository",
        "known_hosts",
        "package_facts",
        "service_facts",
        "synchronize",
        "reboot",
        "modprobe",
        "timezone",
        "locale_gen",
        "ufw",
        "firewalld",
        "seboolean",
        "selinux",
        "debconf",
        "iptables",
        "archive",
        "assemble",
        "tempfile",
        "copy_remote",
        "add_host",
        "group_by",
        "set_stats",
        "validate_argument_spec",
    }
)


@dataclass(frozen=True, slots=True)
class Output:
    """What a call's script section printed, split back into stdout and stderr."""

    exit_code: int | None
    stdout: str
    stderr: str = ""


@dataclass(frozen=True)
class BuildEnv:
    """What a module builder may read: the host, where controller files are found."""

    host: str
    engine: TemplateEngine
    search_dirs: tuple[str, ...]  # role dir first, then the playbook's directory
    check_mode: bool = False
    variables: Mapping[str, Any] = field(default_factory=dict)

    def find(self, name: str, subdir: str, what: str) -> str:
        """A controller file: absolute, or under ``<dir>/<subdir>/`` or ``<dir>/``."""
        import os

        expanded = os.path.expanduser(name)
        if os.path.isabs(expanded):
            if os.path.exists(expanded):
                return expanded
            raise InputError(f"{what} {name!r} not found")
        tried = []
        for base in self.search_dirs:
            for candidate in (os.path.join(base, subdir, expanded), os.path.join(base, expanded)):
                tried.append(candidate)
                if os.path.exists(candidate):
                    return os.path.normpath(candidate)
        raise InputError(f"{what} {name!r} not found (searched {', '.join(tried)})")


class ModuleCall(abc.ABC):
    """One module run for one loop item: facts to read, a plan, a registered result.

    ``opaque``: it may change the host in ways no fact predicts (commands), so facts
    read before it ran are not trusted by later info tasks. ``info``: its result is
    read from facts, which must be current. ``check_skips``: in check mode it does
    not run at all (commands), like Ansible. ``runs_in_check``: a read-only command that
    runs in check mode too (find), so what it registers is real.
    """

    opaque: bool = False
    info: bool = False
    check_skips: bool = False
    runs_in_check: bool = False

    @abc.abstractmethod
    def describe(self) -> str: ...

    def facts(self) -> tuple[Fact[Any], ...]:
        return ()

    @abc.abstractmethod
    def plan(self, facts: FactCache, env: PlanEnv) -> Change: ...

    def result(self, change: Change, output: Output | None) -> dict[str, Any] | None:
        """The registered result; None when it is only known once the change ran."""
        return {"changed": change.reports_changed, "failed": False}

    def op(self) -> Operation | None:
        """The operation behind the call (its ``kind`` names the event), if any."""
        return None

    def sets_facts(self) -> tuple[str, ...]:
        """Host variables its result's ``ansible_facts`` sets (known once planned)."""
        return ()


@dataclass
class OpCall(ModuleCall):
    """A call that is an existing deploy operation; ``extra`` goes into its result."""

    operation: Operation
    extra: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return self.operation.describe()

    def facts(self) -> tuple[Fact[Any], ...]:
        return self.operation.facts()

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        return self.operation.plan(facts, env)

    def result(self, change: Change, output: Output | None) -> dict[str, Any] | None:
        return {"changed": change.reports_changed, "failed": False, **self.extra}

    def op(self) -> Operation | None:
        return self.operation


Builder = Callable[[dict[str, Any], BuildEnv], Sequence[ModuleCall]]


@dataclass(frozen=True)
class ModuleSpec:
    """One module: its parameters (``aliases`` map Ansible's other names to them)."""

    name: str
    params: frozenset[str]
    build: Builder | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    free_form: bool = False  # takes ``module: some words`` (command, shell, meta, ...)
    any_params: bool = False  # set_fact: every key is a variable
    controller: bool = False  # run by the executor itself, not planned against facts
    unsupported: Mapping[str, str] = field(default_factory=dict)  # param -> why


_REGISTRY: dict[str, ModuleSpec] = {}


def register_module(spec: ModuleSpec) -> None:
    """Make ``spec.name`` (and its FQCN forms) usable in playbooks."""
    _REGISTRY[spec.name] = spec


def canonical_name(name: str) -> str:
    """``ansible.builtin.copy`` -> ``copy``."""
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


_LOADED: list[bool] = []


def _builtins() -> None:
    if not _LOADED:
        _LOADED.append(True)
        import opsforge.deploy.playbook.mod_async
        import opsforge.deploy.playbook.mod_commands
        import opsforge.deploy.playbook.mod_controller
        import opsforge.deploy.playbook.mod_files
        import opsforge.deploy.playbook.mod_info
        import opsforge.deploy.playbook.mod_remote
        import opsforge.deploy.playbook.mod_system  # noqa: F401


def lookup_module(name: str) -> ModuleSpec | None:
    _builtins()
    return _REGISTRY.get(canonical_name(name))


def is_module_name(name: str) -> bool:
    """Whether a task key could be a module (known, pending, or dotted like a FQCN)."""
    _builtins()
    short = canonical_name(name)
    return short in _REGISTRY or short in NOT_YET or "." in name


def normalize_args(
    spec: ModuleSpec, args: Mapping[str, Any], origin: str, *, partial: bool = False
) -> dict[str, Any]:
    """Aliases resolved; unknown, unsupported or (unless ``partial``: defaults) missing
    parameters are InputErrors."""
    out: dict[str, Any] = {}
    for key, value in args.items():
        name = spec.aliases.get(key, key)
        if spec.any_params:
            out[name] = value
            continue
        if name in spec.unsupported:
            raise _error(f"{spec.name}: parameter '{key}': {spec.unsupported[name]}", origin)
        if name not in spec.params and name != "_raw_params":
            known = ", ".join(sorted(spec.params))
            raise _error(f"{spec.name}: unknown parameter '{key}' (supported: {known})", origin)
        if name == "_raw_params" and not spec.free_form and name not in spec.params:
            raise _error(f"{spec.name}: takes no free-form text ({value!r})", origin)
        out[name] = value
    for name in () if partial else spec.required:
        if name not in out:
            raise _error(f"{spec.name}: missing required parameter '{name}'", origin)
    return out


def _error(message: str, origin: str) -> InputError:
    path, _, line = origin.rpartition(":")
    if path and line.isdigit():
        return InputError(message, path=path, line=int(line))
    return InputError(message, path=origin or None)
