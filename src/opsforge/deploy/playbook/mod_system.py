"""System modules: apt, package, pip, dnf, yum, apk, service, systemd/systemd_service,
user, group, getent, authorized_key, cron, sysctl, hostname, mount, git — each maps onto
the deploy operation of the same name (the Python deploy functions themselves build
them, so both front-ends validate arguments the same way).

Parameters Ansible documents and the operation does not do are listed per module in
``unsupported``: a playbook using one is refused before anything runs, naming the
option and the task's file:line (never silently dropped).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

from opsforge.deploy.commands import quote
from opsforge.deploy.context import HostContext
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.operation import Change, Operation, PlanEnv
from opsforge.deploy.operations import git as git_ops
from opsforge.deploy.operations import packages, services, system, users
from opsforge.deploy.playbook.args import as_bool, as_int, as_list, as_str, opt_str
from opsforge.deploy.playbook.modules import (
    BuildEnv,
    ModuleCall,
    ModuleSpec,
    OpCall,
    Output,
    register_module,
)
from opsforge.errors import InputError, PlanError
from opsforge.types import Secret

__all__ = ["GetentCall"]

_LATER = "not supported yet"


class _Capture:
    """Stands for the host context: keeps the operation a deploy function declares."""

    def __init__(self) -> None:
        self.op: Operation | None = None

    def add(self, op: Operation, **meta: Any) -> None:
        self.op = op


def _op(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Operation:
    capture = _Capture()
    func(cast(HostContext, capture), *args, **kwargs)
    assert capture.op is not None
    return capture.op


def _given(args: dict[str, Any], *names: str) -> dict[str, Any]:
    """The arguments that were given (so the operation's own defaults apply)."""
    return {n: args[n] for n in names if args.get(n) is not None}


def _bools(args: dict[str, Any], *names: str) -> dict[str, bool]:
    return {n: as_bool(args[n], n) for n in names if args.get(n) is not None}


def _names(args: dict[str, Any]) -> list[str]:
    return [as_str(v, "name") for v in as_list(args.get("name"))]


def _call(op: Operation, **extra: Any) -> list[ModuleCall]:
    return [OpCall(op, {k: v for k, v in extra.items() if v is not None})]


# ---- packages ----------------------------------------------------------------------------


def _apt(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    names = _names(args)
    kwargs: dict[str, Any] = _bools(
        args, "update_cache", "install_recommends", "purge", "allow_downgrade"
    )
    if args.get("cache_valid_time") is not None:
        kwargs["cache_valid_time"] = as_int(args["cache_valid_time"], "cache_valid_time")
        kwargs.setdefault("update_cache", True)  # as Ansible: it implies update_cache
    op = _op(packages.apt, names, state=opt_str(args.get("state")), **kwargs)
    return _call(op, name=names or None)


def _simple(func: Callable[..., Any]) -> Callable[[dict[str, Any], BuildEnv], list[ModuleCall]]:
    def build(args: dict[str, Any], env: BuildEnv) -> list[ModuleCall]:
        names = _names(args)
        op = _op(func, names, state=opt_str(args.get("state")), **_bools(args, "update_cache"))
        return _call(op, name=names)

    return build


def _package(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    use = opt_str(args.get("use")) or "auto"
    chosen = {"auto": _simple(packages.package), "apt": _apt, "dnf": _simple(packages.dnf),
              "yum": _simple(packages.yum), "apk": _simple(packages.apk)}  # fmt: skip
    if use not in chosen:
        raise InputError(f"package: use={use!r} is not supported (auto, apt, dnf, yum, apk)")
    return chosen[use]({k: v for k, v in args.items() if k != "use"}, env)


def _pip(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    names = [as_str(v, "name") for v in as_list(args.get("name"))]
    text = _given(args, "version", "virtualenv", "virtualenv_command", "requirements",
                  "executable", "extra_args", "chdir")  # fmt: skip
    kwargs: dict[str, Any] = {k: as_str(v, k) for k, v in text.items()}
    kwargs.update(_bools(args, "virtualenv_site_packages"))
    op = _op(packages.pip, names, state=opt_str(args.get("state")), **kwargs)
    return _call(op, name=names or None, virtualenv=kwargs.get("virtualenv"))


# ---- services ----------------------------------------------------------------------------


def _service_like(
    func: Callable[..., Any],
) -> Callable[[dict[str, Any], BuildEnv], list[ModuleCall]]:
    def build(args: dict[str, Any], env: BuildEnv) -> list[ModuleCall]:
        name = opt_str(args.get("name"), "name")
        kwargs: dict[str, Any] = {}
        for key in ("enabled", "masked"):
            if args.get(key) is not None:
                kwargs[key] = as_bool(args[key], key)
        if args.get("daemon_reload") is not None:
            kwargs["daemon_reload"] = as_bool(args["daemon_reload"], "daemon_reload")
        if name is None and func is services.service:
            raise InputError("service: missing required parameter 'name'")
        op = _op(func, name, opt_str(args.get("state")), **kwargs)
        state = opt_str(args.get("state"))
        return _call(op, name=name, state=state, enabled=kwargs.get("enabled"))

    return build


def _scope(
    build: Callable[[dict[str, Any], BuildEnv], list[ModuleCall]],
) -> Callable[[dict[str, Any], BuildEnv], list[ModuleCall]]:
    def checked(args: dict[str, Any], env: BuildEnv) -> list[ModuleCall]:
        scope = opt_str(args.get("scope")) or "system"
        if scope != "system":
            raise InputError(f"systemd: scope={scope} is not supported yet (system only)")
        return build({k: v for k, v in args.items() if k != "scope"}, env)

    return checked


# ---- users -------------------------------------------------------------------------------


def _user(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    name = as_str(args["name"], "name")
    text = _given(args, "group", "home", "shell", "update_password", "comment")
    kwargs: dict[str, Any] = {k: as_str(v, k) for k, v in text.items()}
    kwargs.update(_bools(args, "append", "create_home", "move_home", "system", "remove",
                         "force"))  # fmt: skip
    if args.get("uid") is not None:
        kwargs["uid"] = as_int(args["uid"], "uid")
    if args.get("groups") is not None:
        kwargs["groups"] = [as_str(g, "groups") for g in as_list(args["groups"])]
    password = args.get("password")
    if password is not None:
        kwargs["password"] = password if isinstance(password, Secret) else Secret(
            as_str(password, "password"))  # fmt: skip
    op = _op(users.user, name, state=opt_str(args.get("state")), **kwargs)
    return _call(op, name=name, state=opt_str(args.get("state")) or "present")


def _group(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    name = as_str(args["name"], "name")
    kwargs: dict[str, Any] = _bools(args, "system")
    if args.get("gid") is not None:
        kwargs["gid"] = as_int(args["gid"], "gid")
    op = _op(users.group, name, state=opt_str(args.get("state")), **kwargs)
    return _call(op, name=name, state=opt_str(args.get("state")) or "present")


def _authorized_key(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    user = as_str(args["user"], "user")
    key = args["key"]
    keys = key if isinstance(key, list) else as_str(key, "key")
    kwargs: dict[str, Any] = _bools(args, "exclusive", "manage_dir")
    for name in ("path", "key_options"):
        if args.get(name) is not None:
            kwargs[name] = as_str(args[name], name)
    op = _op(users.authorized_key, user, keys, state=opt_str(args.get("state")), **kwargs)
    return _call(op, user=user)


@dataclass
class GetentCall(ModuleCall):
    """``getent DATABASE [KEY]`` read with the other facts; sets ``getent_DATABASE``."""

    info = True
    database: str = ""
    key: str | None = None
    split: str | None = None
    fail_key: bool = True
    value: dict[str, Any] = field(default_factory=dict, init=False)

    def sets_facts(self) -> tuple[str, ...]:
        return (f"getent_{self.database}",)

    def describe(self) -> str:
        return f"getent {self.database}" + (f" {self.key}" if self.key else "")

    def facts(self) -> tuple[Fact[Any], ...]:
        return (GetentTable(self.database, self.key),)

    def plan(self, facts: FactCache, env: PlanEnv) -> Change:
        code, lines = facts.get(GetentTable(self.database, self.key))
        if code == 1:
            raise PlanError(f"getent: missing arguments or unknown database {self.database}",
                            host=env.host)  # fmt: skip
        if code == 2 and self.key is not None and self.fail_key:
            raise PlanError(f"getent: key {self.key} not found in {self.database}",
                            host=env.host)  # fmt: skip
        split = self.split if self.split is not None else (
            ":" if self.database in ("passwd", "group", "shadow", "gshadow") else None)  # fmt: skip
        table: dict[str, Any] = {}
        for line in lines:
            fields = line.split(split) if split else line.split()
            if fields:
                table.setdefault(fields[0], fields[1:])
        self.value = {"ansible_facts": {f"getent_{self.database}": table}}
        return Change.noop("read")

    def result(self, change: Change, output: Output | None) -> dict[str, Any] | None:
        return {"changed": False, "failed": False, **self.value}


@dataclass(frozen=True)
class GetentTable(Fact[tuple[int, tuple[str, ...]]]):
    """``getent``'s exit code and lines (2: key not found)."""

    database: str
    key: str | None = None

    name: ClassVar[str] = "getent"

    def command(self) -> str:
        key = f" {quote(self.key)}" if self.key is not None else ""
        return f"getent {quote(self.database)}{key}"

    def parse(self, output: str, exit_code: int) -> tuple[int, tuple[str, ...]]:
        return exit_code, tuple(line for line in output.split("\n") if line)


def _getent(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    database = as_str(args["database"], "database")
    if not database.replace("_", "").isalnum():
        raise InputError(f"getent: {database!r} is not a database name")
    key = opt_str(args.get("key"), "key")
    fail_key = as_bool(args.get("fail_key"), "fail_key", default=True)
    split = opt_str(args.get("split"))
    return [GetentCall(database=database, key=key or None, split=split, fail_key=fail_key)]


# ---- system ------------------------------------------------------------------------------


def _cron(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    name = as_str(args["name"], "name")
    text = _given(args, "job", "minute", "hour", "day", "month", "weekday", "special_time",
                  "user")  # fmt: skip
    kwargs: dict[str, Any] = {k: as_str(v, k) for k, v in text.items()}
    kwargs.update(_bools(args, "disabled"))
    op = _op(system.cron, name, state=opt_str(args.get("state")), **kwargs)
    return _call(op, name=name)


def _sysctl(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    name = as_str(args["name"], "name")
    value = opt_str(args.get("value"), "value")
    reload = as_bool(args.get("reload"), "reload", default=True)
    if args.get("sysctl_set") is not None:  # the running value is set when it differs
        reload = reload or as_bool(args["sysctl_set"], "sysctl_set")
    kwargs: dict[str, Any] = {"reload": reload}
    if args.get("sysctl_file") is not None:
        kwargs["sysctl_file"] = as_str(args["sysctl_file"], "sysctl_file")
    op = _op(system.sysctl, name, value, state=opt_str(args.get("state")), **kwargs)
    return _call(op, name=name, value=value)


def _hostname(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    name = as_str(args["name"], "name")
    use = opt_str(args.get("use"))
    if use not in (None, "generic", "debian", "alpine"):
        raise InputError(f"hostname: use={use} is not supported (hostname + /etc/hostname only)")
    return _call(_op(system.hostname, name), name=name)


def _mount(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    path = as_str(args["path"], "path")
    state = as_str(args["state"], "state")
    text = _given(args, "opts", "dump", "passno", "fstab")
    kwargs: dict[str, Any] = {k: as_str(v, k) for k, v in text.items()}
    op = _op(system.mount, path, opt_str(args.get("src")), opt_str(args.get("fstype")),
             state=state, **kwargs)  # fmt: skip
    return _call(op, name=path, state=state)


def _git(args: dict[str, Any], env: BuildEnv) -> Sequence[ModuleCall]:
    repo, dest = as_str(args["repo"], "repo"), as_str(args["dest"], "dest")
    kwargs: dict[str, Any] = _bools(args, "force", "update", "recursive", "accept_hostkey")
    if args.get("version") is not None:
        kwargs["version"] = as_str(args["version"], "version")
    if args.get("depth") is not None:
        kwargs["depth"] = as_int(args["depth"], "depth")
    if args.get("key_file") is not None:
        kwargs["key_file"] = as_str(args["key_file"], "key_file")
    return _call(_op(git_ops.git, repo, dest, **kwargs), dest=dest)


# ---- registration ------------------------------------------------------------------------


def _unsupported(*names: str, why: str = _LATER) -> dict[str, str]:
    return {name: why for name in names}


_PKG_ALIASES = {"pkg": "name", "package": "name"}
_UPDATE = {"update-cache": "update_cache"}
register_module(ModuleSpec(
    "apt",
    frozenset({"name", "state", "update_cache", "cache_valid_time", "install_recommends",
               "purge", "allow_downgrade", "force_apt_get", "lock_timeout"}),
    _apt,
    aliases={**_PKG_ALIASES, **_UPDATE, "install-recommends": "install_recommends",
             "allow-downgrade": "allow_downgrade", "allow_downgrades": "allow_downgrade",
             "allow-downgrades": "allow_downgrade"},
    unsupported=_unsupported("autoremove", "autoclean", "deb", "default_release", "dpkg_options",
                             "force", "only_upgrade", "upgrade", "policy_rc_d", "clean",
                             "allow_unauthenticated", "allow_change_held_packages",
                             "fail_on_autoremove", "update_cache_retries",
                             "update_cache_retry_max_delay"),
))  # fmt: skip
register_module(ModuleSpec("package", frozenset({"name", "state", "use"}), _package,
                           aliases=_PKG_ALIASES, required=("name",)))  # fmt: skip
_RPM_LATER = _unsupported("enablerepo", "disablerepo", "conf_file", "disable_gpg_check",
                          "installroot", "releasever", "autoremove", "exclude", "security",
                          "bugfix", "allowerasing", "nobest", "download_only", "download_dir",
                          "skip_broken", "disable_plugin", "enable_plugin", "install_weak_deps",
                          "allow_downgrade", "cacheonly", "list", "update_only",
                          "disable_excludes", "validate_certs", "sslverify", "install_repoquery",
                          "use_backend")  # fmt: skip
for _rpm in ("dnf", "yum"):
    register_module(ModuleSpec(_rpm, frozenset({"name", "state", "update_cache", "lock_timeout"}),
                               _simple(getattr(packages, _rpm)),
                               aliases={**_PKG_ALIASES, "expire-cache": "update_cache",
                                        "update-cache": "update_cache"},
                               required=("name",), unsupported=_RPM_LATER))  # fmt: skip
register_module(ModuleSpec(
    "apk", frozenset({"name", "state", "update_cache"}), _simple(packages.apk),
    aliases={**_PKG_ALIASES, **_UPDATE}, required=("name",),
    unsupported=_unsupported("available", "repository", "upgrade", "no_cache", "world"),
))  # fmt: skip
register_module(ModuleSpec(
    "pip",
    frozenset({"name", "state", "version", "virtualenv", "virtualenv_command",
               "virtualenv_site_packages", "requirements", "executable", "extra_args", "chdir"}),
    _pip,
    unsupported=_unsupported("editable", "umask", "virtualenv_python",
                             "break_system_packages"),
))  # fmt: skip
register_module(ModuleSpec(
    "service", frozenset({"name", "state", "enabled"}), _service_like(services.service),
    required=("name",),
    unsupported=_unsupported("runlevel", "sleep", "pattern", "arguments", "use"),
))  # fmt: skip
for _unit in ("systemd", "systemd_service"):
    register_module(ModuleSpec(
        _unit, frozenset({"name", "state", "enabled", "daemon_reload", "masked", "scope"}),
        _scope(_service_like(services.systemd)),
        aliases={"service": "name", "unit": "name", "daemon-reload": "daemon_reload"},
        unsupported=_unsupported("daemon_reexec", "daemon-reexec", "no_block", "force"),
    ))  # fmt: skip
register_module(ModuleSpec(
    "user",
    frozenset({"name", "uid", "group", "groups", "append", "home", "create_home",
               "move_home", "shell", "system", "password", "update_password", "comment",
               "state", "remove", "force"}),
    _user,
    aliases={"user": "name", "createhome": "create_home"},
    required=("name",),
    unsupported=_unsupported("generate_ssh_key", "ssh_key_bits", "ssh_key_type",
                             "ssh_key_file", "ssh_key_comment", "ssh_key_passphrase",
                             "expires", "password_lock", "non_unique", "seuser", "skeleton",
                             "login_class", "local", "hidden", "profile", "authorization",
                             "role", "umask", "password_expire_max", "password_expire_min",
                             "password_expire_warn", "uid_min", "uid_max"),
))  # fmt: skip
register_module(ModuleSpec(
    "group", frozenset({"name", "gid", "system", "state"}), _group, required=("name",),
    unsupported=_unsupported("local", "non_unique", "force", "gid_min", "gid_max"),
))  # fmt: skip
register_module(ModuleSpec(
    "getent", frozenset({"database", "key", "split", "fail_key"}), _getent,
    required=("database",), unsupported=_unsupported("service"),
))  # fmt: skip
register_module(ModuleSpec(
    "authorized_key",
    frozenset({"user", "key", "state", "exclusive", "path", "manage_dir", "key_options"}),
    _authorized_key, required=("user", "key"),
    unsupported=_unsupported("validate_certs", "follow", "comment"),
))  # fmt: skip
register_module(ModuleSpec(
    "cron",
    frozenset({"name", "job", "minute", "hour", "day", "month", "weekday", "special_time",
               "user", "state", "disabled"}),
    _cron, aliases={"value": "job", "dom": "day", "dow": "weekday"}, required=("name",),
    unsupported=_unsupported("cron_file", "backup", "env", "insertafter", "insertbefore",
                             "reboot"),
))  # fmt: skip
register_module(ModuleSpec(
    "sysctl",
    frozenset({"name", "value", "state", "sysctl_file", "reload", "sysctl_set"}),
    _sysctl, aliases={"key": "name", "val": "value"}, required=("name",),
    unsupported=_unsupported("ignoreerrors"),
))  # fmt: skip
register_module(ModuleSpec("hostname", frozenset({"name", "use"}), _hostname,
                           required=("name",)))  # fmt: skip
register_module(ModuleSpec(
    "mount",
    frozenset({"path", "src", "fstype", "opts", "dump", "passno", "state", "fstab"}),
    _mount, aliases={"name": "path"}, required=("path", "state"),
    unsupported=_unsupported("backup", "boot", "opts_no_log"),
))  # fmt: skip
register_module(ModuleSpec(
    "git",
    frozenset({"repo", "dest", "version", "force", "depth", "update", "recursive",
               "accept_hostkey", "key_file"}),
    _git, aliases={"name": "repo"}, required=("repo", "dest"),
    unsupported=_unsupported("clone", "bare", "remote", "refspec", "reference", "umask",
                             "verify_commit", "track_submodules", "separate_git_dir",
                             "single_branch", "archive", "archive_prefix", "executable",
                             "ssh_opts", "gpg_whitelist", "gpg_allowlist",
                             "accept_newhostkey", "git_path"),
))  # fmt: skip
