"""The audit policy: what the checks accept, with defaults, and an optional YAML file.

::

    # policy.yml (every key optional)
    disable: [ssh-banner, base-listen-any]   # checks not run
    permit_root_login: prohibit-password     # the most permissive value accepted
    max_auth_tries: 4
    client_alive_interval: 300
    client_alive_count_max: 3
    login_grace_time: 60
    log_level: VERBOSE
    banner: /etc/issue.net
    banner_text: "Authorized access only."
    allow_users: []                          # harden writes AllowUsers when given
    allow_groups: []
    listen_allowed: [22]                     # ports accepted on 0.0.0.0 / ::
    accept_algorithms: []                    # accepted despite their grade
    min_modulus_bits: 3072

A malformed file is an :class:`~opsforge.errors.InputError` naming ``file:line``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import yaml

from opsforge.errors import InputError
from opsforge.security.audit.checks import CHECKS

__all__ = ["ROOT_LOGIN_ORDER", "Policy", "PolicyError", "load_policy"]

#: PermitRootLogin values from the strictest to the most permissive
ROOT_LOGIN_ORDER = ("no", "forced-commands-only", "prohibit-password", "yes")
_ROOT_ALIASES = {"without-password": "prohibit-password"}
LOG_LEVELS = ("QUIET", "FATAL", "ERROR", "INFO", "VERBOSE", "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3")


class PolicyError(InputError):
    """The policy file is malformed (names file:line)."""


@dataclass(frozen=True)
class Policy:
    disable: frozenset[str] = frozenset()
    permit_root_login: str = "prohibit-password"
    max_auth_tries: int = 4
    client_alive_interval: int = 300
    client_alive_count_max: int = 3
    login_grace_time: int = 60
    log_level: str = "VERBOSE"
    banner: str = "/etc/issue.net"
    banner_text: str = "Authorized access only. Activity on this system is logged and monitored.\n"
    allow_users: tuple[str, ...] = ()
    allow_groups: tuple[str, ...] = ()
    listen_allowed: tuple[int, ...] = (22,)
    accept_algorithms: frozenset[str] = frozenset()
    min_modulus_bits: int = 3072


def root_login_value(text: str) -> str:
    return _ROOT_ALIASES.get(text.lower(), text.lower())


def _fail(path: Path, node: yaml.Node, message: str) -> PolicyError:
    return PolicyError(message, path=str(path), line=node.start_mark.line + 1)


def _strings(path: Path, node: yaml.Node, key: str) -> tuple[str, ...]:
    if not isinstance(node, yaml.SequenceNode) or not all(
        isinstance(item, yaml.ScalarNode) for item in node.value
    ):
        raise _fail(path, node, f"'{key}' must be a list of names")
    return tuple(str(item.value) for item in node.value)


def _int(path: Path, node: yaml.Node, key: str, low: int, high: int) -> int:
    text = node.value if isinstance(node, yaml.ScalarNode) else None
    if text is None or not str(text).isdigit() or not low <= int(text) <= high:
        raise _fail(path, node, f"'{key}' must be a whole number from {low} to {high}")
    return int(text)


def _value(path: Path, key: str, node: yaml.Node) -> Any:
    ints = {
        "max_auth_tries": (1, 100),
        "client_alive_interval": (1, 86400),
        "client_alive_count_max": (1, 100),
        "login_grace_time": (1, 3600),
        "min_modulus_bits": (1024, 16384),
    }
    if key in ints:
        return _int(path, node, key, *ints[key])
    if key == "disable":
        names = _strings(path, node, key)
        unknown = sorted(set(names) - set(CHECKS))
        if unknown:
            raise _fail(path, node, f"unknown check(s) {', '.join(unknown)} in 'disable'")
        return frozenset(names)
    if key == "accept_algorithms":
        return frozenset(_strings(path, node, key))
    if key in ("allow_users", "allow_groups"):
        return _strings(path, node, key)
    if key == "listen_allowed":
        return tuple(_int(path, item, key, 1, 65535) for item in _seq(path, node, key))
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise _fail(path, node, f"'{key}' must be a text value")
    text = str(node.value).strip()
    if key == "permit_root_login":
        text = root_login_value(text)
        if text not in ROOT_LOGIN_ORDER:
            raise _fail(path, node, f"'{key}' must be one of {', '.join(ROOT_LOGIN_ORDER)}")
    if key == "log_level":
        text = text.upper()
        if text not in ("INFO", "VERBOSE"):
            raise _fail(path, node, "'log_level' must be INFO or VERBOSE")
    if key == "banner" and not text.startswith("/"):
        raise _fail(path, node, "'banner' must be an absolute path")
    return text + "\n" if key == "banner_text" and not text.endswith("\n") else text


def _seq(path: Path, node: yaml.Node, key: str) -> list[yaml.Node]:
    if not isinstance(node, yaml.SequenceNode):
        raise _fail(path, node, f"'{key}' must be a list")
    return list(node.value)


def load_policy(path: Path | None) -> Policy:
    """The default policy, or the defaults overridden by the YAML file at ``path``."""
    policy = Policy()
    if path is None:
        return policy
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise PolicyError(f"cannot read policy file: {why}", path=str(path)) from None
    except UnicodeDecodeError:
        raise PolicyError("policy file is not UTF-8 text", path=str(path)) from None
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(f"not valid YAML: {problem}", path=str(path), line=line) from None
    if root is None:
        return policy
    if not isinstance(root, yaml.MappingNode):
        raise _fail(path, root, "a policy file is a mapping of settings (key: value)")
    known = {f.name for f in fields(Policy)}
    changes: dict[str, Any] = {}
    for key_node, value_node in root.value:
        key = str(key_node.value)
        if key not in known:
            raise _fail(
                path, key_node, f"unknown policy setting '{key}' ({', '.join(sorted(known))})"
            )
        changes[key] = _value(path, key, value_node)
    return replace(policy, **changes)
