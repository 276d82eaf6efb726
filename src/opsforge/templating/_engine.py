"""``TemplateEngine``: render template files and strings, evaluate expressions, template
nested values; every error is a :class:`TemplateError` naming file and line."""

from __future__ import annotations

import datetime
import os
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import GeneratorType
from typing import Any, NoReturn

from jinja2 import Template, TemplateSyntaxError, Undefined, meta, nodes, pass_context
from jinja2.parser import Parser
from jinja2.runtime import Context

from opsforge.errors import TemplateError
from opsforge.templating._environment import TemplateEnvironment, candidates, has_markers
from opsforge.templating._filters_data import DATA_FILTERS
from opsforge.templating._filters_text import TEXT_FILTERS
from opsforge.templating._locate import ErrorLocator, PluginError
from opsforge.templating._lookups import LOOKUPS, LookupCall, lookup_name
from opsforge.templating._reveal import TOUCHED, retaint, reveal, revealing
from opsforge.templating._tests import TESTS

__all__ = ["DEFAULT_ANSIBLE_MANAGED", "OMIT", "TemplateEngine"]

OMIT = "__omit_place_holder__" + secrets.token_hex(20)
"""The value of ``omit``: callers drop any parameter whose value equals it."""

DEFAULT_ANSIBLE_MANAGED = "Ansible managed"

_SINGLE_EXPRESSION = re.compile(r"\{\{(?P<expr>.*)\}\}", re.DOTALL)
_STRING_CACHE = 512
_FQCN = ("ansible.builtin.", "ansible.legacy.")


def _single_expression(text: str) -> str | None:
    """The expression when ``text`` is exactly one ``{{ expr }}``, else None."""
    match = _SINGLE_EXPRESSION.fullmatch(text)
    if match is None:
        return None
    inner = match.group("expr")
    if any(mark in inner for mark in ("{{", "}}", "{%", "%}", "{#")):
        return None
    return inner


def _now(utc: bool = False, fmt: str | None = None) -> Any:
    value = datetime.datetime.now(datetime.UTC) if utc else datetime.datetime.now()
    return value.strftime(fmt) if fmt else value


class TemplateEngine:
    """Jinja2 with Ansible's filters, tests, lookups and globals.

    ``search_paths``: where template files, included templates and lookup files are
    found (``<path>/templates/`` and ``<path>/files/`` before ``<path>/``).
    ``file_reader`` reads template and lookup files (pass one that decrypts vaulted files).
    """

    def __init__(
        self,
        search_paths: Sequence[str | os.PathLike[str]] = (),
        *,
        lookups_enabled: bool = True,
        ansible_managed: str = DEFAULT_ANSIBLE_MANAGED,
        file_reader: Callable[[Path], bytes] | None = None,
    ) -> None:
        self._search_paths = tuple(Path(p).absolute() for p in search_paths)
        self._lookups_enabled = lookups_enabled
        self._reader: Callable[[Path], bytes] = file_reader or Path.read_bytes
        self._locator = ErrorLocator()
        self._names: dict[str, frozenset[str]] = {}
        self._env = env = TemplateEnvironment(self._search_paths, self._locator, self._reader)
        env.filters.update(TEXT_FILTERS)
        env.filters.update(DATA_FILTERS)
        env.tests.update(TESTS)
        self._locator.add_plugins("filter", dict(env.filters))
        self._locator.add_plugins("test", dict(env.tests))
        tables: tuple[dict[str, Any], ...] = (env.filters, env.tests)
        for table in tables:
            table.update({name: revealing(func) for name, func in table.items()})
            table.update(
                {prefix + name: func for name, func in list(table.items()) for prefix in _FQCN}
            )
        env.globals.update(
            lookup=self._lookup_function(wantlist=False),
            query=self._lookup_function(wantlist=True),
            q=self._lookup_function(wantlist=True),
            now=_now,
            omit=OMIT,
            ansible_managed=ansible_managed,
            undef=lambda hint=None: env.undefined(hint=hint),
        )
        self._strings: OrderedDict[tuple[str, str, str], Template] = OrderedDict()
        self._lock = threading.Lock()

    # -- what lookups need (LookupHost) ---------------------------------------------------

    @property
    def search_paths(self) -> tuple[Path, ...]:
        return self._search_paths

    def read_source_file(self, path: Path) -> bytes:
        return self._reader(path)

    def render_template_file(self, path: Path, variables: Mapping[str, Any]) -> str:
        return self.render_file(str(path), variables)

    # -- support ------------------------------------------------------------------------------

    def supports(self, kind: str, name: str) -> bool:
        """Whether ``name`` is a known ``filter``, ``test`` or ``lookup``."""
        if kind == "lookup":
            return lookup_name(name) in LOOKUPS
        table = {"filter": self._env.filters, "test": self._env.tests}.get(kind)
        if table is None:
            raise ValueError(f"kind must be filter, test or lookup, not {kind!r}")
        return name in table

    # -- rendering ----------------------------------------------------------------------------

    def _fail(self, exc: BaseException, fallback: str | None) -> NoReturn:
        located = self._locator.locate(exc, fallback=fallback)
        if located is exc:
            raise exc
        raise located from exc

    def resolve_template(self, path: str) -> Path:
        """The template file ``path`` names: absolute, or under a search path."""
        tried = candidates(path, self._search_paths)
        for candidate in tried:
            if candidate.is_file():
                return candidate.absolute()
        searched = ", ".join(str(c) for c in tried)
        raise TemplateError(f"template not found (searched {searched})", path=path)

    def referenced_names(self, path: str) -> frozenset[str]:
        """The variables a template file reads (not counting its own assignments), so a
        caller can gather only the facts it uses."""
        filename = str(self.resolve_template(path))
        cached = self._names.get(filename)
        if cached is None:
            try:
                source = self._reader(Path(filename)).decode("utf-8", errors="replace")
                cached = frozenset(meta.find_undeclared_variables(self._env.parse(source)))
            except TemplateSyntaxError as exc:
                self._fail(exc, filename)
            self._names[filename] = cached
        return cached

    def render_file(self, path: str, variables: Mapping[str, Any]) -> str:
        """Render a template file. ``path`` is absolute or relative to a search path."""
        filename = str(self.resolve_template(path))
        try:
            return self._env.get_template(filename).render(variables)
        except Exception as exc:
            self._fail(exc, filename)

    def _string_template(self, text: str, origin: str, kind: str = "text") -> Template:
        key = (kind, text, origin)
        with self._lock:
            cached = self._strings.get(key)
            if cached is not None:
                self._strings.move_to_end(key)
                return cached
        filename = f"<{origin}>"
        self._locator.add_string(filename, origin)
        env = self._env
        try:
            if kind == "text":
                code = env.compile(text, filename=filename)
            else:
                parser = Parser(env, text, filename=filename, state="variable")
                expr = parser.parse_expression()
                if not parser.stream.eos:
                    token = parser.stream.current
                    raise TemplateSyntaxError(
                        f"unexpected {token.value!r} after the expression",
                        token.lineno,
                        None,
                        filename,
                    )
                body = [nodes.Assign(nodes.Name("result", "store"), expr, lineno=1)]
                code = env.compile(nodes.Template(body, lineno=1), filename=filename)
        except Exception as exc:
            self._fail(exc, filename)
        template = env.template_class.from_code(env, code, env.make_globals(None))
        with self._lock:
            self._strings[key] = template
            while len(self._strings) > _STRING_CACHE:
                self._strings.popitem(last=False)
        return template

    def render_string(self, text: str, variables: Mapping[str, Any], *, origin: str) -> str:
        """Render template text that came from ``origin`` (``playbook.yml:12``)."""
        if not has_markers(text):
            return text
        template = self._string_template(text, origin)
        try:
            return template.render(variables)
        except Exception as exc:
            self._fail(exc, template.filename)

    def _evaluate(self, expression: str, variables: Mapping[str, Any], origin: str) -> Any:
        template = self._string_template(expression, origin, kind="expression")
        try:
            context = template.new_context(dict(variables))
            try:
                for _ in template.root_render_func(context):
                    pass
            except Exception:
                self._env.handle_exception()  # re-raises with template line numbers
            result = context.vars["result"]
            if isinstance(result, Undefined):
                result._fail_with_undefined_error()
            return list(result) if isinstance(result, GeneratorType) else result
        except Exception as exc:
            self._fail(exc, template.filename)

    def evaluate(self, expression: Any, variables: Mapping[str, Any], *, origin: str) -> Any:
        """The native value of a Jinja2 expression (``when:``, ``that:``, ``loop:``).
        A string wrapped in one ``{{ }}`` is evaluated without it; non-strings are
        returned as they are."""
        if not isinstance(expression, str):
            return expression
        inner = _single_expression(expression.strip())
        token = TOUCHED.set([])
        try:
            result = self._evaluate(inner if inner is not None else expression, variables, origin)
            return retaint(result, TOUCHED.get() or [])
        finally:
            TOUCHED.reset(token)

    def render_value(self, value: Any, variables: Mapping[str, Any], *, origin: str) -> Any:
        """Template every string in ``value`` (dicts, lists, tuples, recursively). A string
        that is exactly one ``{{ expr }}`` becomes the expression's native value; any
        other string with Jinja2 syntax renders to a string. Strings that carry a secret's
        value come back as :class:`Secret`."""
        token = TOUCHED.set([])
        try:
            return retaint(self._render_value(value, variables, origin), TOUCHED.get() or [])
        finally:
            TOUCHED.reset(token)

    def _render_value(self, value: Any, variables: Mapping[str, Any], origin: str) -> Any:
        if isinstance(value, str):
            if not has_markers(value):
                return value
            inner = _single_expression(value)
            if inner is not None:
                return self._evaluate(inner, variables, origin)
            return self.render_string(value, variables, origin=origin)
        if isinstance(value, Mapping):
            return {
                self._render_value(k, variables, origin): self._render_value(v, variables, origin)
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self._render_value(item, variables, origin) for item in value]
        return value

    # -- static checks --------------------------------------------------------------------------

    def check_string(self, text: str, *, origin: str, expression: bool = False) -> None:
        """Fail now, before anything runs, on a syntax error or an unsupported filter,
        test or lookup anywhere in ``text`` (also in branches that would not run)."""
        if not expression and not has_markers(text):
            return
        if expression:
            inner = _single_expression(text.strip())
            text = "{{ " + (inner if inner is not None else text) + " }}"
        filename = f"<{origin}>"
        self._locator.add_string(filename, origin)
        self._check(text, filename)

    def check_file(self, path: str) -> None:
        """:meth:`check_string` for a template file."""
        resolved = self.resolve_template(path)
        filename = str(resolved)
        self._locator.add_file(filename)
        try:
            text = self._reader(resolved).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateError(f"cannot read template: {exc}", path=path) from None
        self._check(text, filename)

    def _check(self, text: str, filename: str) -> None:
        try:
            tree = self._env.parse(text, filename=filename)
        except Exception as exc:
            self._fail(exc, filename)
        for node in tree.find_all((nodes.Filter, nodes.Test)):
            assert isinstance(node, nodes.Filter | nodes.Test)
            kind = "filter" if isinstance(node, nodes.Filter) else "test"
            if not self.supports(kind, node.name):
                raise self._locator.error(
                    f"unsupported {kind} '{node.name}'", filename, node.lineno
                )
        for call in tree.find_all(nodes.Call):
            assert isinstance(call, nodes.Call)
            if (
                isinstance(call.node, nodes.Name)
                and call.node.name in ("lookup", "query", "q")
                and call.args
                and isinstance(call.args[0], nodes.Const)
                and isinstance(call.args[0].value, str)
                and not self.supports("lookup", call.args[0].value)
            ):
                message = f"unsupported lookup '{call.args[0].value}'"
                raise self._locator.error(message, filename, call.lineno)

    # -- lookups --------------------------------------------------------------------------------

    def _lookup_function(self, *, wantlist: bool) -> Callable[..., Any]:
        engine = self

        @pass_context
        def lookup(context: Context, name: str, *terms: Any, **options: Any) -> Any:
            want = bool(options.pop("wantlist", wantlist))
            on_error = options.pop("errors", "strict")
            impl = LOOKUPS.get(lookup_name(name))
            if impl is None:
                known = ", ".join(sorted(LOOKUPS))
                raise PluginError(f"unsupported lookup '{name}' (supported: {known})")
            if not engine._lookups_enabled:
                raise PluginError(f"lookup '{name}': lookups are disabled here")
            parent = context.name
            template_dir = Path(parent).parent if parent and os.path.isabs(parent) else None
            call = LookupCall(engine, context.get_all(), template_dir)
            try:
                results = reveal(impl(call, list(terms), options))
            except PluginError:
                if on_error in ("ignore", "warn"):
                    return [] if want else None
                raise
            if want:
                return results
            if len(results) == 1:
                return results[0]
            if all(isinstance(item, str) for item in results):
                return ",".join(results)
            return results

        return lookup
