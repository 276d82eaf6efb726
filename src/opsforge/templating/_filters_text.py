"""Ansible's text filters: comment, regex_*, encodings, hashes, quoting, paths, URLs."""

from __future__ import annotations

import base64
import hashlib
import ntpath
import os.path
import re
import shlex
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit as _urlsplit

from opsforge.templating._locate import PluginError
from opsforge.templating._shacrypt import MAX_SALT, random_salt, sha_crypt

__all__ = ["TEXT_FILTERS"]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


# -- comment ----------------------------------------------------------------------------

_COMMENT_STYLES: dict[str, dict[str, str]] = {
    "plain": {"decoration": "# "},
    "erlang": {"decoration": "% "},
    "c": {"decoration": "// "},
    "cblock": {"beginning": "/*", "decoration": " * ", "end": " */"},
    "xml": {"beginning": "<!--", "decoration": " - ", "end": "-->"},
}


def comment(
    text: Any,
    style: str = "plain",
    decoration: str | None = None,
    beginning: str | None = None,
    end: str | None = None,
    prefix: str | None = None,
    prefix_count: int = 1,
    postfix: str | None = None,
    postfix_count: int = 1,
    newline: str = "\n",
) -> str:
    """``text`` as a comment block: optional beginning, prefix lines, each line
    decorated, postfix lines, optional end."""
    if style not in _COMMENT_STYLES:
        raise PluginError(f"unknown comment style {style!r} (known: {', '.join(_COMMENT_STYLES)})")
    preset = _COMMENT_STYLES[style]
    decoration = preset["decoration"] if decoration is None else decoration
    beginning = preset.get("beginning") if beginning is None else beginning
    end = preset.get("end") if end is None else end
    prefix = decoration.rstrip() if prefix is None else prefix
    postfix = decoration.rstrip() if postfix is None else postfix
    lines: list[str] = [beginning] if beginning else []
    lines += [prefix] * prefix_count
    lines += [
        (decoration + line) if line else decoration.rstrip() for line in _text(text).split("\n")
    ]
    lines += [postfix] * postfix_count
    if end:
        lines.append(end)
    return newline.join(lines)


# -- regular expressions -----------------------------------------------------------------


def _flags(ignorecase: bool, multiline: bool) -> int:
    return (re.IGNORECASE if ignorecase else 0) | (re.MULTILINE if multiline else 0)


def regex_replace(
    value: Any,
    pattern: str = "",
    replacement: str = "",
    ignorecase: bool = False,
    multiline: bool = False,
    count: int = 0,
    mandatory_count: int = 0,
) -> str:
    compiled = re.compile(pattern, _flags(ignorecase, multiline))
    text = _text(value)
    result, made = compiled.subn(replacement, text, count=count)
    if mandatory_count and made != mandatory_count:
        raise PluginError(f"{pattern!r} should match {mandatory_count} times, matched {made}")
    return result


_GROUP_REF = re.compile(r"\\(?:(\d+)|g<(\w+)>)")


def regex_search(
    value: Any, regex: str, *groups: str, ignorecase: bool = False, multiline: bool = False
) -> str | list[str | Any] | None:
    """The first match (None if none); with ``'\\\\1'``/``'\\\\g<name>'`` arguments, the
    list of those groups."""
    match = re.search(regex, _text(value), _flags(ignorecase, multiline))
    if match is None:
        return None
    if not groups:
        return match.group(0)
    picked: list[str | Any] = []
    for ref in groups:
        parsed = _GROUP_REF.fullmatch(ref)
        if parsed is None:
            raise PluginError(f"unknown group reference {ref!r} (use '\\\\1' or '\\\\g<name>')")
        number, name = parsed.groups()
        picked.append(match.group(int(number)) if number is not None else match.group(name))
    return picked


def regex_findall(
    value: Any, regex: str, multiline: bool = False, ignorecase: bool = False
) -> list[Any]:
    return re.findall(regex, _text(value), _flags(ignorecase, multiline))


def regex_escape(value: Any, re_type: str = "python") -> str:
    if re_type == "python":
        return re.escape(_text(value))
    if re_type == "posix_basic":
        return re.sub(r"([].[^$*\\])", r"\\\1", _text(value))
    raise PluginError(f"regex_escape: unsupported re_type {re_type!r} (python, posix_basic)")


# -- encodings, hashes, quoting -----------------------------------------------------------


def b64encode(value: Any, encoding: str = "utf-8") -> str:
    return base64.b64encode(_text(value).encode(encoding)).decode("ascii")


def b64decode(value: Any, encoding: str = "utf-8", urlsafe: bool = False) -> str:
    data = _text(value).encode("ascii")
    raw = base64.urlsafe_b64decode(data) if urlsafe else base64.b64decode(data)
    return raw.decode(encoding)


def hash_filter(value: Any, hashtype: str = "sha1") -> str:
    try:
        digest = hashlib.new(hashtype)
    except ValueError:
        raise PluginError(f"unsupported hash type {hashtype!r}") from None
    digest.update(value if isinstance(value, bytes) else _text(value).encode("utf-8"))
    return digest.hexdigest()


def checksum(value: Any) -> str:
    return hash_filter(value, "sha1")


def md5(value: Any) -> str:
    return hash_filter(value, "md5")


_CRYPT_BITS = {"sha512": 512, "sha512_crypt": 512, "sha256": 256, "sha256_crypt": 256}


def password_hash(
    password: Any,
    hashtype: str = "sha512",
    salt: str | None = None,
    salt_size: int | None = None,
    rounds: int | None = None,
    ident: str | None = None,
) -> str:
    """A crypt(3) hash for /etc/shadow. Without ``rounds``: 5000 (crypt(3)'s default)."""
    del ident  # only meaningful for bcrypt, which is not supported
    bits = _CRYPT_BITS.get(hashtype)
    if bits is None:
        raise PluginError(
            f"unsupported hashtype {hashtype!r} (supported: {', '.join(_CRYPT_BITS)})"
        )
    if salt is None:
        salt = random_salt(min(salt_size or MAX_SALT, MAX_SALT))
    try:
        return sha_crypt(_text(password), salt, bits=bits, rounds=rounds)
    except ValueError as exc:
        raise PluginError(str(exc)) from None


def quote(value: Any) -> str:
    return shlex.quote(_text(value if value is not None else ""))


# -- paths, URLs, splitting ----------------------------------------------------------------


def splitext(path: Any) -> tuple[str, str]:
    return os.path.splitext(_text(path))


def relpath(path: Any, start: str = os.curdir) -> str:
    return os.path.relpath(_text(path), start)


def path_join(parts: Any) -> str:
    items = [parts] if isinstance(parts, str) else [_text(p) for p in parts]
    return os.path.join(*items)


_URL_FIELDS = (
    "fragment",
    "hostname",
    "netloc",
    "password",
    "path",
    "port",
    "query",
    "scheme",
    "username",
)


def urlsplit(value: Any, query: str = "") -> Any:
    parts = _urlsplit(_text(value))
    fields = {name: getattr(parts, name) for name in _URL_FIELDS}
    if not query:
        return fields
    if query not in fields:
        raise PluginError(f"urlsplit: unknown URL component {query!r}")
    return fields[query]


def split(value: Any, separator: str | None = None, maxsplit: int = -1) -> list[str]:
    return _text(value).split(separator, maxsplit)


TEXT_FILTERS: dict[str, Callable[..., Any]] = {
    "comment": comment,
    "regex_replace": regex_replace,
    "regex_search": regex_search,
    "regex_findall": regex_findall,
    "regex_escape": regex_escape,
    "b64encode": b64encode,
    "b64decode": b64decode,
    "hash": hash_filter,
    "checksum": checksum,
    "md5": md5,
    "sha1": checksum,
    "password_hash": password_hash,
    "quote": quote,
    "basename": lambda path: os.path.basename(_text(path)),
    "dirname": lambda path: os.path.dirname(_text(path)),
    "win_basename": lambda path: ntpath.basename(_text(path)),
    "win_dirname": lambda path: ntpath.dirname(_text(path)),
    "expanduser": lambda path: os.path.expanduser(_text(path)),
    "expandvars": lambda path: os.path.expandvars(_text(path)),
    "realpath": lambda path: os.path.realpath(_text(path)),
    "relpath": relpath,
    "splitext": splitext,
    "path_join": path_join,
    "urlsplit": urlsplit,
    "split": split,
}
