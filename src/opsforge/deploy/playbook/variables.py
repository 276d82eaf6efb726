"""Variables as Ansible sees them: layers in precedence order, templated when read.

A :class:`VarSpace` holds the layers one task (one loop item) sees, highest
precedence first. Values are raw until used: rendering a string or evaluating an
expression first renders exactly the variables it names (and, recursively, the
ones those name), so a broken variable nobody reads is never an error, like
Ansible's lazy templating.

A registered result that is not known yet (its task has not run) is a
:class:`Pending` value: reading it raises :class:`NeedsSync`, which tells the
executor to gather facts or apply what is pending before evaluating again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from jinja2 import Environment, TemplateSyntaxError, meta, nodes

from opsforge.deploy.playbook.yaml_lines import Unsafe
from opsforge.errors import OpsforgeError, TemplateError
from opsforge.templating import OMIT, TemplateEngine

__all__ = ["APPLY", "GATHER", "HostVars", "NeedsSync", "Pending", "VarSpace", "names_in"]

GATHER = 1  # the value is known once facts are gathered and the batch planned
APPLY = 2  # the value is known once the pending changes ran


class NeedsSync(OpsforgeError):
    """Evaluation read a value that is not known yet; ``level`` says what makes it known."""

    def __init__(self, level: int, name: str) -> None:
        super().__init__(f"'{name}' is not known yet")
        self.level = level
        self.name = name


class Pending(Mapping[str, Any]):
    """A result that is not known yet: any read raises :class:`NeedsSync`."""

    __slots__ = ("level", "name")

    def __init__(self, level: int, name: str) -> None:
        self.level = level
        self.name = name

    def _raise(self) -> Any:
        raise NeedsSync(self.level, self.name)

    def __getitem__(self, key: str) -> Any:
        return self._raise()

    def __iter__(self) -> Iterator[str]:
        return self._raise()  # type: ignore[no-any-return]

    def __len__(self) -> int:
        return self._raise()  # type: ignore[no-any-return]

    def __contains__(self, key: object) -> bool:
        return self._raise()  # type: ignore[no-any-return]

    def __str__(self) -> str:
        return self._raise()  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"<pending {self.name}>"

    def _read(self, *_: object) -> Any:
        return self._raise()

    # a comparison, a truth test or arithmetic reads the value too (``x == 'systemd'``)
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _read
    __bool__ = __int__ = __float__ = __index__ = _read
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __mod__ = _read
    __truediv__ = __floordiv__ = __neg__ = _read

    __hash__ = None  # type: ignore[assignment]


class HostVars(Mapping[str, Any]):
    """``hostvars``: every host's variables, built when one is read."""

    def __init__(self, names: Sequence[str], build: Callable[[str], Mapping[str, Any]]) -> None:
        self._names = tuple(names)
        self._build = build

    def __getitem__(self, name: str) -> Mapping[str, Any]:
        if name not in self._names:
            raise KeyError(name)
        # built on every read: what another host set since (set_fact, register) shows
        return self._build(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names


class TemplatedVars(Mapping[str, Any]):
    """A host's variables as ``hostvars[host]`` shows them: each templated when read, in
    that host's own variable space (its ``inventory_hostname``, its group vars)."""

    def __init__(self, space: VarSpace) -> None:
        self._space = space

    def __getitem__(self, name: str) -> Any:
        return self._space.resolve(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._space.flat())

    def __len__(self) -> int:
        return len(self._space.flat())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._space


_PARSER = Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])


@functools.lru_cache(maxsize=8192)
def _names(text: str) -> frozenset[str]:
    try:
        return frozenset(meta.find_undeclared_variables(_PARSER.parse(text)))
    except TemplateSyntaxError:
        return frozenset()  # the engine reports it, with file and line


@functools.lru_cache(maxsize=4096)
def _expr_names(text: str) -> frozenset[str]:
    return _names("{{ " + text + " }}") if "{{" not in text and "{%" not in text else _names(text)


def _markers(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def names_in(value: Any, *, expression: bool = False) -> frozenset[str]:
    """Variables read by the templates in ``value`` (strings, recursively)."""
    if isinstance(value, Unsafe):
        return frozenset()
    if isinstance(value, str):
        if expression:
            return _expr_names(value)
        return _names(value) if _markers(value) else frozenset()
    if isinstance(value, Pending):
        return frozenset()
    if isinstance(value, Mapping):
        out: frozenset[str] = frozenset()
        for key, item in value.items():
            out |= names_in(key) | names_in(item)
        return out
    if isinstance(value, list | tuple):
        found: frozenset[str] = frozenset()
        for item in value:
            found |= names_in(item)
        return found
    return frozenset()


def _templated(value: Any, depth: int = 0) -> bool:
    if isinstance(value, Unsafe) or depth > 20:
        return False
    if isinstance(value, str):
        return _markers(value)
    if isinstance(value, Pending | HostVars):
        return False
    if isinstance(value, dict):
        return any(_templated(k, depth + 1) or _templated(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_templated(v, depth + 1) for v in value)
    return False


def template_names(engine: TemplateEngine, path: str) -> frozenset[str]:
    """Variables a template file reads, its static includes and imports counted."""
    seen: set[str] = set()
    names: set[str] = set()
    todo = [path]
    while todo:
        current = todo.pop()
        try:
            resolved = engine.resolve_template(current)
        except TemplateError:
            continue
        if str(resolved) in seen:
            continue
        seen.add(str(resolved))
        try:
            tree = _PARSER.parse(resolved.read_text(encoding="utf-8", errors="replace"))
        except TemplateSyntaxError:
            continue  # check_file / render_file report it
        names.update(meta.find_undeclared_variables(tree))
        for node in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
            target = getattr(node, "template", None)
            if isinstance(target, nodes.Const) and isinstance(target.value, str):
                candidate = resolved.parent / target.value
                todo.append(str(candidate) if candidate.is_file() else target.value)
    return frozenset(names)


class VarSpace:
    """The variables of one evaluation place: ``layers`` highest precedence first."""

    def __init__(self, engine: TemplateEngine, layers: Sequence[Mapping[str, Any]],
                 origin: str) -> None:  # fmt: skip
        self.engine = engine
        self.layers = list(layers)
        self.origin = origin
        self._flat: dict[str, Any] | None = None
        self._resolved: dict[str, Any] = {}
        self._resolving: list[str] = []

    def child(self, top: Mapping[str, Any]) -> VarSpace:
        """A space with one more layer on top (loop variables, include params)."""
        return VarSpace(self.engine, [top, *self.layers], self.origin)

    def flat(self) -> dict[str, Any]:
        if self._flat is None:
            merged: dict[str, Any] = {}
            for layer in reversed(self.layers):
                merged.update(layer)
            self._flat = merged
        return self._flat

    def __contains__(self, name: str) -> bool:
        return name in self.flat()

    def raw(self, name: str) -> Any:
        return self.flat()[name]

    def resolve(self, name: str) -> Any:
        """The templated value of ``name`` (KeyError when undefined)."""
        if name in self._resolved:
            return self._resolved[name]
        raw = self.flat()[name]
        if not _templated(raw):
            self._resolved[name] = raw
            return raw
        if name in self._resolving:
            chain = " -> ".join([*self._resolving[self._resolving.index(name) :], name])
            raise TemplateError(f"variable '{name}' refers to itself ({chain})")
        self._resolving.append(name)
        try:
            value = self.engine.render_value(raw, self.context(raw), origin=self.origin)
        except TemplateError as exc:
            if "(in variable" not in exc.message:
                exc.message = f"{exc.message} (in variable '{name}')"
            raise
        finally:
            self._resolving.pop()
        self._resolved[name] = value
        return value

    def context(self, value: Any, *, expression: bool = False) -> dict[str, Any]:
        """Variables for rendering ``value``: every name it reads already templated."""
        flat = self.flat()
        names = names_in(value, expression=expression)
        ctx = dict(flat)
        for name in names:
            if name in flat:
                ctx[name] = self.resolve(name)
        return ctx

    def context_names(self, names: frozenset[str]) -> dict[str, Any]:
        flat = self.flat()
        ctx = dict(flat)
        for name in names:
            if name in flat:
                ctx[name] = self.resolve(name)
        return ctx

    def render(self, value: Any, origin: str | None = None) -> Any:
        """``value`` with its templates rendered (omitted parameters dropped)."""
        if not _templated(value):
            return value
        rendered = self.engine.render_value(
            value, self.context(value), origin=origin or self.origin
        )
        return _drop_omit(rendered)

    def evaluate(self, expression: Any, origin: str | None = None) -> Any:
        """A ``when``/``that``/``until`` expression's value."""
        if isinstance(expression, bool | int | float) or expression is None:
            return expression
        if isinstance(expression, Unsafe):
            return str(expression)
        ctx = self.context(expression, expression=True)
        return self.engine.evaluate(expression, ctx, origin=origin or self.origin)

    def truth(self, expression: Any, origin: str | None = None) -> bool:
        value = self.evaluate(expression, origin)
        if isinstance(value, str):
            text = value.strip().lower()
            if text in ("false", "no", "0", "", "none", "off"):
                return False
        return bool(value)


def _drop_omit(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_omit(v) for k, v in value.items() if v != OMIT}
    if isinstance(value, list):
        return [_drop_omit(v) for v in value if v != OMIT]
    return value
