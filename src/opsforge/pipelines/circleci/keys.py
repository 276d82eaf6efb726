"""CircleCI cache key templates: ``{{ checksum "file" }}``, ``{{ .Branch }}``,
``{{ .Revision }}``, ``{{ .BuildNum }}``, ``{{ .Environment.NAME }}``, ``{{ epoch }}``,
``{{ arch }}``. Checked when the config loads, rendered when the step runs (checksums
read the job's workdir then)."""

from __future__ import annotations

import base64
import hashlib
import platform
import re
import time
from collections.abc import Mapping
from pathlib import Path

__all__ = ["KeyTemplateError", "check_key", "render_key"]

_PART = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_CHECKSUM = re.compile(r'checksum\s+"([^"]+)"')
_ENV = re.compile(r"\.Environment\.([A-Za-z_][A-Za-z0-9_]*)")


class KeyTemplateError(ValueError):
    """A ``{{ }}`` part CircleCI does not have, or a checksum of a missing file."""


def _one(
    expr: str, *, workdir: Path | None, branch: str, revision: str, env: Mapping[str, str]
) -> str:
    if m := _CHECKSUM.fullmatch(expr):
        if workdir is None:
            return ""
        target = workdir / m.group(1)
        if not target.is_file():
            raise KeyTemplateError(f'{{{{ checksum "{m.group(1)}" }}}}: no such file')
        return base64.b64encode(hashlib.sha256(target.read_bytes()).digest()).decode()
    if m := _ENV.fullmatch(expr):
        return env.get(m.group(1), "<no value>")
    simple = {
        ".Branch": branch,
        ".Revision": revision,
        ".BuildNum": env.get("CIRCLE_BUILD_NUM", "1"),
        "epoch": str(int(time.time())),
        "arch": f"arch1-{platform.system().lower()}-{platform.machine().lower()}",
    }
    if expr in simple:
        return simple[expr]
    raise KeyTemplateError(
        f"unknown cache key template {{{{ {expr} }}}} (known: checksum, "
        ".Branch, .Revision, .BuildNum, .Environment.NAME, epoch, arch)"
    )


def check_key(key: str) -> None:
    """Raise :class:`KeyTemplateError` for a part CircleCI does not know."""
    for m in _PART.finditer(key):
        _one(m.group(1), workdir=None, branch="", revision="", env={})


def render_key(
    key: str, *, workdir: Path, branch: str, revision: str, env: Mapping[str, str]
) -> str:
    return _PART.sub(
        lambda m: _one(m.group(1), workdir=workdir, branch=branch, revision=revision, env=env), key
    )
