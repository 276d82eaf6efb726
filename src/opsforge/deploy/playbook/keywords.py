"""The keywords a play, a block and a task may use, and the old ``k=v`` argument form."""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "BLOCK_KEYWORDS",
    "INHERITED",
    "LOOP_LOOKUPS",
    "PLAY_KEYWORDS",
    "TASK_KEYWORDS",
    "UNSUPPORTED_KEYWORDS",
    "parse_kv",
    "split_args",
]

#: keywords passed down from a play/role/block/import to the tasks below it
INHERITED = frozenset(
    {
        "become",
        "become_user",
        "become_method",
        "become_flags",
        "environment",
        "ignore_errors",
        "no_log",
        "check_mode",
        "diff",
        "delegate_to",
        "run_once",
        "any_errors_fatal",
        "remote_user",
        "ignore_unreachable",
    }
)

#: ``with_<name>`` loops and the lookup each one means
LOOP_LOOKUPS = frozenset(
    {
        "items",
        "list",
        "dict",
        "fileglob",
        "sequence",
        "nested",
        "subelements",
        "first_found",
        "indexed_items",
        "together",
        "lines",
    }
)

_COMMON = frozenset(
    {
        "name",
        "when",
        "tags",
        "vars",
        *INHERITED,
        "collections",
        "debugger",
        "throttle",
        "timeout",
        "module_defaults",
    }
)

TASK_KEYWORDS = _COMMON | {
    "action",
    "local_action",
    "args",
    "loop",
    "loop_control",
    "register",
    "changed_when",
    "failed_when",
    "until",
    "retries",
    "delay",
    "notify",
    "listen",
    "delegate_facts",
    "async",
    "poll",
    *(f"with_{name}" for name in LOOP_LOOKUPS),
}

BLOCK_KEYWORDS = _COMMON | {"block", "rescue", "always", "notify"}

PLAY_KEYWORDS = _COMMON | {
    "hosts",
    "vars_files",
    "vars_prompt",
    "gather_facts",
    "gather_subset",
    "gather_timeout",
    "serial",
    "max_fail_percentage",
    "pre_tasks",
    "tasks",
    "post_tasks",
    "handlers",
    "roles",
    "strategy",
    "force_handlers",
    "connection",
    "order",
    "port",
    "fact_path",
}

#: keywords Ansible knows that opsforge does not implement (an error, never ignored)
UNSUPPORTED_KEYWORDS = {
    "order": "play 'order' is not supported yet",
    "connection": "only 'connection: local' and 'ssh' are supported",
    "port": "set ansible_port in the inventory instead",
    "delegate_facts": "delegate_facts is not supported yet",
    "fact_path": "local facts (fact_path) are not supported yet",
}

_KV = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)


def split_args(text: str) -> list[str]:
    """Split ``text`` on whitespace, keeping quoted strings and Jinja2 ``{{ }}``/``{% %}``
    blocks whole (the quotes stay in the words)."""
    words: list[str] = []
    current: list[str] = []
    quote: str | None = None
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        pair = text[i : i + 2]
        if quote is None and pair in ("{{", "{%", "{#"):
            depth += 1
            current.append(pair)
            i += 2
            continue
        if quote is None and depth and pair in ("}}", "%}", "#}"):
            depth -= 1
            current.append(pair)
            i += 2
            continue
        if ch == "\\" and quote != "'" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch in "'\"" and not depth:
            if quote is None:
                quote = ch
            elif quote == ch:
                quote = None
        if ch.isspace() and quote is None and not depth:
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(ch)
        i += 1
    if current:
        words.append("".join(current))
    return words


_ESCAPES = re.compile(r"\\(?:[\\'\"abfnrtv]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[0-7]{1,3})")


def _decode_escapes(value: str) -> str:
    """Backslash escapes in a ``k=v`` value (``\\n`` is a newline), like Ansible."""
    return _ESCAPES.sub(lambda m: m.group(0).encode("ascii").decode("unicode_escape"), value)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return _decode_escapes(value)


def parse_kv(text: str, *, free_form: bool) -> tuple[dict[str, Any], str | None]:
    """``"src=a.j2 dest='/etc/x y'"`` -> ({"src": "a.j2", "dest": "/etc/x y"}, None).

    For free-form modules (command, shell, ...) the words that are not ``k=v`` make
    up the command, returned second (``k=v`` words inside it are kept as words
    unless the key is a known command option)."""
    args: dict[str, Any] = {}
    rest: list[str] = []
    for word in split_args(text):
        match = _KV.match(word)
        if match and (not free_form or match.group(1) in _COMMAND_OPTIONS):
            args[match.group(1)] = _unquote(match.group(2))
        else:
            rest.append(word)
    if rest and not free_form:
        args["_raw_params"] = " ".join(rest)
        return args, None
    return args, " ".join(rest) if rest else None


_COMMAND_OPTIONS = frozenset(
    {"creates", "removes", "chdir", "executable", "warn", "stdin", "stdin_add_newline"}
)
