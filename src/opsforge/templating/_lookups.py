"""Ansible's lookups, run on the controller: env, file, template, pipe, lines,
fileglob, first_found, items, dict, sequence, vars.

Each lookup takes the call (where to search, the variables) plus its terms and
options, and returns a list. ``lookup()`` joins a list of strings with commas;
``query()``/``q()`` always return the list.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from opsforge.templating._locate import PluginError

__all__ = ["LOOKUPS", "LookupCall", "LookupHost", "lookup_name"]

_PIPE_TIMEOUT = 300.0


class LookupHost(Protocol):
    """What the lookups need from the template engine."""

    @property
    def search_paths(self) -> tuple[Path, ...]: ...

    def read_source_file(self, path: Path) -> bytes: ...

    def render_template_file(self, path: Path, variables: Mapping[str, Any]) -> str: ...


@dataclass(frozen=True, slots=True)
class LookupCall:
    host: LookupHost
    variables: Mapping[str, Any]
    template_dir: Path | None  # the directory of the template making the call

    def base_dirs(self) -> list[Path]:
        dirs = [self.template_dir] if self.template_dir is not None else []
        dirs += [p for p in self.host.search_paths if p not in dirs]
        return dirs or [Path.cwd()]

    def find(self, name: str, subdir: str) -> Path | None:
        """``name`` as given when absolute; else under ``<base>/<subdir>/`` or ``<base>/``
        for each base directory (the calling template's first, then the search paths)."""
        path = Path(os.path.expanduser(name))
        if path.is_absolute():
            return path if path.exists() else None
        for base in self.base_dirs():
            for candidate in (base / subdir / path, base / path):
                if candidate.exists():
                    return candidate
        return None

    def searched(self, subdir: str) -> str:
        return ", ".join(f"{b}/{subdir}, {b}" for b in self.base_dirs())

    def cwd(self) -> str | None:
        for base in self.base_dirs():
            if base.is_dir():
                return str(base)
        return None


Lookup = Callable[[LookupCall, list[Any], dict[str, Any]], list[Any]]


def lookup_name(name: str) -> str:
    for prefix in ("ansible.builtin.", "ansible.legacy."):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _flat(terms: list[Any]) -> list[Any]:
    out: list[Any] = []
    for term in terms:
        out.extend(term if isinstance(term, list | tuple) else [term])
    return out


def _no_options(name: str, options: dict[str, Any], allowed: Sequence[str] = ()) -> None:
    extra = sorted(set(options) - set(allowed))
    if extra:
        raise PluginError(f"lookup '{name}': unknown option(s) {', '.join(extra)}")


def _env(call: LookupCall, terms: list[Any], options: dict[str, Any]) -> list[Any]:
    _no_options("env", options, ("default",))
    default = options.get("default", "")
    return [os.environ.get(str(term), default) for term in _flat(terms)]


def _file(call: LookupCall, terms: list[Any], options: dict[str, Any]) -> list[Any]:
    _no_options("file", options, ("rstrip", "lstrip"))
    out = []
    for term in _flat(terms):
        path = call.find(str(term), "files")
        if path is None or not path.is_file():
            raise PluginError(
                f"lookup 'file': could not find {term!r} (searched {call.searched('files')})"
            )
        text = call.host.read_source_file(path).decode("utf-8", "replace")
        if options.get("rstrip", True):
            text = text.rstrip()
        if options.get("lstrip", False):
            text = text.lstrip()
        out.append(text)
    return out


def _template(call: LookupCall, terms: list[Any], options: dict[str, Any]) -> list[Any]:
    _no_options("template", options, ("template_vars", "convert_data"))
    variables = dict(call.variables)
    variables.update(options.get("template_vars") or {})
    out = []
    for term in _flat(terms):
        path = call.find(str(term), "templates")
        if path is None or not path.is_file():
            searched = call.searched("templates")
            raise PluginError(f"lookup 'template': could not find {term!r} (searched {searched})")
        out.append(call.host.render_template_file(path, variables))
    return out


def _run(name: str, call: LookupCall, command: str) -> str:
    try:
        proc = subprocess.run(
            command, shell=True, capture_output=True, text=True, cwd=call.cwd(),
            timeout=_PIPE_TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise PluginError(f"lookup '{name}': {command!r} ran over {_PIPE_TIMEOUT:.0f} s") from None
    if proc.returncode != 0:
        err = proc.stderr.strip()
        detail = f": {err}" if err else ""
        raise PluginError(f"lookup '{name}': {command!r} exited {proc.returncode}{detail}")
    return proc.stdout


def _pipe(call: LookupCall, terms: list[Any], options: dict[str, Any]) -> list[Any]:
    _no_options("pipe", options)
    return [_run("pipe", call, str(term)).rstrip() for term in _flat(terms)]


def _lines(call: LookupCall, terms: list[Any], options: dict[str, Any]) -> list[Any]:
    _no_options("lines", options)
    return [line for term in _flat(terms) for line in _run("lines", call, str(term)).splitlines()]


def _fileglob(call: LookupCall, terms: list[Any], options: dict[str, Any]) -> list[Any]:
    _no_options("fileglob", options)
    found: list[str] = []
    for term in _flat(terms):
        pattern = os.path.expanduser(str(term))
        if os.path.isabs(pattern):
            dirs = [Path(os.path.dirname(pattern))]
        else:
            sub = os.path.dirname(pattern)
            dirs = [d for b in call.base_dirs() for d in (b / "files" / sub, b / sub)]
        for directory in dirs:
            if directory.is_dir():
                matches = glob.glob(
                    os.path.join(glob.escape(str(directory)), os.path.basename(pattern))
                )
                hits = sorted(m for m in matches if os.path.isfile(m))
                if hits:
                    found.extend(hits)
                    break
    return found


def _first_found(call: LookupCall, terms: list[Any], options: dict[str, Any]) -> list[Any]:
    _no_options("first_found", options, ("files", "paths", "skip"))
    skip = bool(options.get("skip", False))
    groups: list[tuple[list[str], list[str]]] = []

    def names(value: Any) -> list[str]:
        items = value if isinstance(value, list | tuple) else [value]
        return [n for item in items for n in re.split(r"[,;]", str(item)) if n]

    if options.get("files") or options.get("paths"):
        groups.append((names(options.get("files") or []), names(options.get("paths") or [])))
    for term in terms:
        if isinstance(term, Mapping):
            groups.append((names(term.get("files", [])), names(term.get("paths", []))))
            skip = skip or bool(term.get("skip", False))
        else:
            groups.append((names(term), []))
    tried = []
    for files, paths in groups:
        candidates = [os.path.join(p, f) for f in files for p in paths] if paths else files
        for candidate in candidates:
            tried.append(candidate)
            found = call.find(candidate, "files")
            if found is not None and found.is_file():
                return [str(found)]
    if skip:
        return []
    raise PluginError(
        f"No file was found when using first_found (tried {', '.join(tried) or 'nothing'})"
    )


def _items(call: LookupCall, terms: list[Any], options: dict[str, Any]) -> list[Any]:
    _no_options("items", options)
    return _flat(terms)


def _dict(call: LookupCall, terms: list[Any], options: dict[str, Any]) -> list[Any]:
    _no_options("dict", options)
    out: list[Any] = []
    for term in terms:
        if not isinstance(term, Mapping):
            raise PluginError(f"lookup 'dict' expects a dictionary, got {type(term).__name__}")
        out.extend({"key": k, "value": v} for k, v in term.items())
    return out


_SHORT_SEQ = re.compile(r"^(?:(-?\w+)-)?(-?\w+)(?:/(-?\w+))?(?::(.+))?$")


def _sequence_one(spec: str, options: dict[str, Any]) -> list[str]:
    params: dict[str, Any] = {"start": 1, "end": None, "stride": 1, "format": "%d", "count": None}
    params.update(options)
    text = spec.strip()
    if text:
        if "=" in text:
            for part in text.split():
                key, _, value = part.partition("=")
                if key not in params:
                    raise PluginError(f"lookup 'sequence': unknown parameter {key!r} in {spec!r}")
                params[key] = value
        else:
            m = _SHORT_SEQ.match(text)
            if m is None:
                raise PluginError(f"lookup 'sequence': cannot read {spec!r}")
            start, end, stride, fmt = m.groups()
            params.update(
                end=end,
                **{k: v for k, v in (("start", start), ("stride", stride), ("format", fmt)) if v},
            )
    try:
        start, stride = int(str(params["start"]), 0), int(str(params["stride"]), 0)
        if params["count"] is not None:
            if params["end"] is not None:
                raise PluginError("lookup 'sequence': give count or end, not both")
            count = int(str(params["count"]), 0)
            end = start + (count - 1) * stride
            if count == 0:
                return []
        elif params["end"] is not None:
            end = int(str(params["end"]), 0)
        else:
            raise PluginError(f"lookup 'sequence': {spec!r} needs an end or a count")
    except ValueError as exc:
        raise PluginError(f"lookup 'sequence': bad number in {spec!r}: {exc}") from None
    if stride == 0 or (stride > 0 and end < start) or (stride < 0 and end > start):
        raise PluginError(f"lookup 'sequence': cannot go from {start} to {end} by {stride}")
    stop = end + 1 if stride > 0 else end - 1
    try:
        return [str(params["format"]) % i for i in range(start, stop, stride)]
    except (TypeError, ValueError) as exc:
        raise PluginError(f"lookup 'sequence': bad format {params['format']!r}: {exc}") from None


def _sequence(call: LookupCall, terms: list[Any], options: dict[str, Any]) -> list[Any]:
    _no_options("sequence", options, ("start", "end", "stride", "format", "count"))
    specs = [str(t) for t in _flat(terms)] or [""]
    return [item for spec in specs for item in _sequence_one(spec, options)]


_MISSING = object()


def _vars(call: LookupCall, terms: list[Any], options: dict[str, Any]) -> list[Any]:
    _no_options("vars", options, ("default",))
    default = options.get("default", _MISSING)
    out: list[Any] = []
    for term in _flat(terms):
        if term in call.variables:
            out.append(call.variables[term])
        elif default is not _MISSING:
            out.append(default)
        else:
            raise PluginError(f"lookup 'vars': no variable named {term!r}")
    return out


LOOKUPS: dict[str, Lookup] = {
    "env": _env,
    "file": _file,
    "template": _template,
    "pipe": _pipe,
    "lines": _lines,
    "fileglob": _fileglob,
    "first_found": _first_found,
    "items": _items,
    "dict": _dict,
    "sequence": _sequence,
    "vars": _vars,
}
