"""Reading inventory and vars files: text, YAML with line numbers, JSON.

Mappings load as :class:`LineDict`, a ``dict`` that remembers the line of each
key, so shape errors found later can still point at ``file:line``. Values handed
to the rest of opsforge go through :func:`plain` and are ordinary dicts/lists.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml

from opsforge.errors import InventoryError, VaultError
from opsforge.vault import VaultSecrets, vault_constructor

__all__ = ["LineDict", "LineList", "key_line", "load_yaml", "node_line", "plain", "read_source"]

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

_VAULT_HEADER = "$ANSIBLE_VAULT;"


class LineDict(dict[Any, Any]):
    """A mapping from YAML that knows its own line and the line of each key (1-based)."""

    __slots__ = ("key_lines", "line")

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}


class LineList(list[Any]):
    """A sequence from YAML that knows the line it starts on (1-based)."""

    __slots__ = ("line",)

    def __init__(self, line: int | None = None) -> None:
        super().__init__()
        self.line = line


def key_line(mapping: object, key: object, default: int | None = None) -> int | None:
    """The line ``key`` sits on in ``mapping`` when it came from YAML, else ``default``."""
    if isinstance(mapping, LineDict):
        return mapping.key_lines.get(key, mapping.line)
    return default


def node_line(value: object, default: int | None = None) -> int | None:
    if isinstance(value, LineDict | LineList) and value.line is not None:
        return value.line
    return default


class _LineLoader(_BaseLoader):
    """SafeLoader whose mappings are :class:`LineDict`."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Iterator[LineDict]:
    data = LineDict(node.start_mark.line + 1)
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=False)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "found a key that is a list or mapping",
                key_node.start_mark,
            )
        data[key] = loader.construct_object(value_node, deep=False)
        data.key_lines[key] = key_node.start_mark.line + 1


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> Iterator[LineList]:
    data = LineList(node.start_mark.line + 1)
    yield data
    data.extend(loader.construct_sequence(node))


#: the vault passwords of the inventory being loaded (set by ``load_inventory``)
VAULT_SECRETS: ContextVar[VaultSecrets | None] = ContextVar("inventory_vault", default=None)

_GIVE_PASSWORD = (
    "give the vault password "
    "(--vault-password-file, $OPSFORGE_VAULT_PASSWORD or $ANSIBLE_VAULT_PASSWORD_FILE)"
)
_NO_VAULT = f"ansible-vault encrypted value: {_GIVE_PASSWORD}"


def _construct_vault(loader: _LineLoader, node: yaml.Node) -> Any:
    secrets = VAULT_SECRETS.get()
    if not secrets:
        raise yaml.constructor.ConstructorError(None, None, _NO_VAULT, node.start_mark)
    # decrypted in memory only, held as a Secret (shown as *** everywhere)
    return vault_constructor(secrets, path=getattr(loader, "name", None))(loader, node)


def _construct_unsafe(loader: _LineLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return dict(loader.construct_mapping(node, deep=True))  # type: ignore[arg-type]


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
_LineLoader.add_constructor("!vault", _construct_vault)
_LineLoader.add_constructor("!unsafe", _construct_unsafe)


def read_source(path: Path, display: str) -> str:
    """The text of an inventory or vars file; refuses vault-encrypted and non-UTF-8 files."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InventoryError("no such inventory file", path=display) from exc
    except OSError as exc:
        raise InventoryError(f"cannot read: {exc.strerror or exc}", path=display) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InventoryError("not UTF-8 text", path=display, line=line) from exc
    if text.lstrip().startswith(_VAULT_HEADER):
        secrets = VAULT_SECRETS.get()
        if not secrets:
            raise InventoryError(
                f"file is encrypted with ansible-vault: {_GIVE_PASSWORD}", path=display, line=1
            )
        try:
            return secrets.decrypt_text(data, path=display, line=1)
        except VaultError as exc:
            raise InventoryError(exc.message, path=display, line=1) from None
    return text


def _yaml_error(exc: yaml.YAMLError, display: str) -> InventoryError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        parts = [part for part in (exc.context, exc.problem) if part]
        line = mark.line + 1 if mark is not None else None
        if exc.problem and "vault" in exc.problem:
            return InventoryError(exc.problem, path=display, line=line)
        message = "; ".join(parts) or "syntax error"
        return InventoryError(f"invalid YAML: {message}", path=display, line=line)
    return InventoryError(f"invalid YAML: {exc}", path=display)


def load_yaml(text: str, display: str, *, json_first: bool = False) -> Any:
    """Parse YAML (or JSON, which is YAML) keeping line numbers in :class:`LineDict`."""
    parsed_json: Any = None
    is_json = False
    if json_first or text.lstrip().startswith("{"):
        try:
            parsed_json = json.loads(text)
            is_json = True
        except json.JSONDecodeError as exc:
            if json_first:
                raise InventoryError(
                    f"invalid JSON: {exc.msg}", path=display, line=exc.lineno
                ) from exc
        except RecursionError as exc:
            raise InventoryError("invalid JSON: nested too deeply", path=display) from exc
        # Valid JSON has no raw tabs inside strings, so tabs are only indentation,
        # which YAML refuses; as spaces the text parses the same and keeps its lines.
        text = text.replace("\t", " ") if is_json else text
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        if is_json:
            return parsed_json
        raise _yaml_error(exc, display) from exc
    except VaultError as exc:  # a !vault value that does not decrypt
        raise InventoryError(exc.message, path=display, line=exc.line) from None
    except RecursionError as exc:
        raise InventoryError("invalid YAML: nested too deeply", path=display) from exc


def plain(value: Any, _memo: dict[int, Any] | None = None) -> Any:
    """``value`` with every :class:`LineDict` turned into a plain ``dict`` (aliases kept)."""
    if not isinstance(value, dict | list):
        return value
    memo = {} if _memo is None else _memo
    found = memo.get(id(value))
    if found is not None:
        return found
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        memo[id(value)] = out
        for key, item in value.items():
            out[key] = plain(item, memo)
        return out
    items: list[Any] = []
    memo[id(value)] = items
    items.extend(plain(item, memo) for item in value)
    return items
