"""Jinja2 templating with Ansible's filters, tests, lookups and globals.

::

    engine = TemplateEngine([role_dir, playbook_dir])
    text = engine.render_file("app.conf.j2", variables)          # templates/app.conf.j2
    ok = engine.evaluate("ansible_os_family == 'Debian'", variables, origin="site.yml:12")
    args = engine.render_value({"dest": "/etc/{{ name }}"}, variables, origin="site.yml:14")

Undefined variables are errors; every error is a :class:`~opsforge.errors.TemplateError`
naming the template file and line (``app.conf.j2:7: 'tier' is undefined``), or, for
text from a playbook, the ``origin`` it came from. Secrets render as their real value
where a template reads a variable, an attribute or an item, passes a value to a filter
or test, or prints it (one known gap: a bare secret taken from iterating a list and then
compared with ``==`` or joined with ``~`` stays masked); mask rendered text with
:func:`find_secrets`; :meth:`TemplateEngine.render_value` hands back values that carry
a secret as :class:`~opsforge.types.Secret`. Parameters equal to :data:`OMIT` (what
``omit`` renders to) are to be dropped by the caller.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from opsforge.errors import TemplateError
from opsforge.templating._engine import DEFAULT_ANSIBLE_MANAGED, OMIT, TemplateEngine
from opsforge.templating._reveal import find_secrets

__all__ = [
    "DEFAULT_ANSIBLE_MANAGED",
    "OMIT",
    "TemplateEngine",
    "TemplateError",
    "evaluate",
    "find_secrets",
    "render_value",
]


@functools.cache
def _default_engine() -> TemplateEngine:
    return TemplateEngine()


def evaluate(expression: Any, variables: Mapping[str, Any], *, origin: str) -> Any:
    """:meth:`TemplateEngine.evaluate` on an engine without search paths."""
    return _default_engine().evaluate(expression, variables, origin=origin)


def render_value(value: Any, variables: Mapping[str, Any], *, origin: str) -> Any:
    """:meth:`TemplateEngine.render_value` on an engine without search paths."""
    return _default_engine().render_value(value, variables, origin=origin)
