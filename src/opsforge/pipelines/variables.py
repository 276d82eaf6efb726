"""Variable expansion (``$VAR``, ``${VAR}``, ``$$``) and dotenv report files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.model import Variable

__all__ = ["expand", "parse_dotenv", "resolve_variables"]

_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_DOTENV_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def expand(text: str, env: Mapping[str, str], *, keep_unknown: bool = False) -> str:
    """``$VAR``/``${VAR}`` replaced from ``env`` (unknown: empty, or kept); ``$$`` → ``$``."""
    if "$" not in text:  # most values: nothing to expand
        return text

    def sub(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(2)
        if name in env:
            return env[name]
        return match.group(0) if keep_unknown else ""

    return _REF.sub(sub, text)


def resolve_variables(variables: Mapping[str, Variable], base: Mapping[str, str]) -> dict[str, str]:
    """The values of ``variables``, each expanded against ``base`` and those before it."""
    env = dict(base)
    out: dict[str, str] = {}
    for name, var in variables.items():
        value = var.reveal()
        if not var.raw:
            value = expand(value, env, keep_unknown=True)
        env[name] = value
        out[name] = value
    return out


def parse_dotenv(path: Path) -> dict[str, str]:
    """A dotenv report: ``NAME=value`` lines (optional quotes, ``#`` comments).

    A malformed line is a :class:`PipelineError` naming file:line.
    """
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise PipelineError(f"cannot read dotenv report: {exc.strerror}", path=str(path)) from None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _DOTENV_LINE.match(stripped)
        if match is None:
            raise PipelineError(
                f"not a NAME=value line in a dotenv report: {stripped[:60]!r}",
                path=str(path),
                line=number,
            )
        name, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values
