"""Variable expansion (``$VAR``, ``${VAR}``, ``$$``) and dotenv report files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.model import Variable

__all__ = ["LOCAL_ONLY", "expand", "job_environment", "parse_dotenv", "resolve_variables"]

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


#: this machine's own variables that a job's container or remote host never inherits
#: (unless the job sets them itself)
LOCAL_ONLY = frozenset({"PATH", "HOME", "PWD", "TMPDIR", "OPSFORGE_PROJECT_DIR"})


def job_environment(
    env: Mapping[str, str], job_env: Mapping[str, str], base: Mapping[str, str]
) -> dict[str, str]:
    """What a job's steps get away from this machine (in a container, on a host): what the
    job defines or receives — ``job_env``, and every value of ``env`` that is not this
    machine's own environment ``base`` (the dotenv of its needs, ``--var``, predefined
    ``CI_*``) — never :data:`LOCAL_ONLY`."""
    return {
        key: value
        for key, value in env.items()
        if key in job_env or (key not in LOCAL_ONLY and base.get(key) != value)
    }


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
