"""The Jinja2 pieces configured as Ansible's template module uses them: strict
undefined (chainable, so ``a.b | default(x)`` works when ``a`` is undefined), secrets
revealed lazily, None rendered as an empty string, includes next to the including
template first, then in the search paths (``<path>/templates/`` before ``<path>/``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from types import GeneratorType
from typing import Any

from jinja2 import BaseLoader, ChainableUndefined, Environment, StrictUndefined, TemplateNotFound
from jinja2.runtime import Context
from jinja2.utils import missing

from opsforge.templating._locate import ErrorLocator
from opsforge.templating._reveal import reveal, reveal_one

__all__ = ["TemplateEnvironment", "TemplateUndefined", "candidates", "has_markers"]


def has_markers(text: str) -> bool:
    """Whether ``text`` holds any Jinja2 syntax (else rendering it is the identity)."""
    return "{{" in text or "{%" in text or "{#" in text


class TemplateUndefined(ChainableUndefined, StrictUndefined):
    """Every use is an error naming the variable, except ``is defined``, ``default``
    and attribute/item access (which stays undefined)."""

    __slots__ = ()


class _RevealingContext(Context):
    def resolve_or_missing(self, key: str) -> Any:
        value = super().resolve_or_missing(key)
        return value if value is missing else reveal_one(value)


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, GeneratorType):  # map/select/unique output renders as a list
        value = list(value)
    return reveal(value)


def candidates(name: str, search_paths: tuple[Path, ...], subdir: str = "templates") -> list[Path]:
    """Where a relative template name is looked for, in order."""
    path = Path(os.path.expanduser(name))
    if path.is_absolute():
        return [path]
    if not search_paths:
        return [Path.cwd() / path]
    return [c for base in search_paths for c in (base / subdir / path, base / path)]


class _SearchPathLoader(BaseLoader):
    def __init__(self, search_paths: tuple[Path, ...], locator: ErrorLocator,
                 reader: Callable[[Path], bytes]) -> None:  # fmt: skip
        self._search_paths = search_paths
        self._locator = locator
        self._reader = reader

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        tried = candidates(template, self._search_paths)
        for path in tried:
            if path.is_file():
                break
        else:
            searched = ", ".join(str(p) for p in tried)
            raise TemplateNotFound(
                template, f"template {template!r} not found (searched {searched})"
            )
        filename = str(path.absolute())
        try:
            source = self._reader(path).decode("utf-8")
            mtime = path.stat().st_mtime
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateNotFound(
                template, f"template {template!r} cannot be read: {exc}"
            ) from None
        self._locator.add_file(filename)

        def uptodate() -> bool:
            try:
                return path.stat().st_mtime == mtime
            except OSError:
                return False

        return source, filename, uptodate


class TemplateEnvironment(Environment):
    """``Environment`` with Ansible's settings and template-relative includes."""

    context_class = _RevealingContext

    def __init__(self, search_paths: tuple[Path, ...], locator: ErrorLocator,
                 reader: Callable[[Path], bytes]) -> None:  # fmt: skip
        super().__init__(
            loader=_SearchPathLoader(search_paths, locator, reader),
            undefined=TemplateUndefined,
            trim_blocks=True,
            keep_trailing_newline=True,
            autoescape=False,
            finalize=_finalize,
            extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"],
            auto_reload=True,
            cache_size=400,
        )

    def getattr(self, obj: Any, attribute: str) -> Any:
        return reveal_one(super().getattr(reveal_one(obj), attribute))

    def getitem(self, obj: Any, argument: Any) -> Any:
        return reveal_one(super().getitem(reveal_one(obj), argument))

    def join_path(self, template: str, parent: str) -> str:
        """``{% include 'x.j2' %}`` finds x.j2 beside the including template first."""
        if os.path.isabs(parent) and not os.path.isabs(template):
            beside = os.path.join(os.path.dirname(parent), template)
            if os.path.isfile(beside):
                return beside
        return template
