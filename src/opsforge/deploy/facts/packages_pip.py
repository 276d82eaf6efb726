"""pip facts: what a Python environment has installed, and what ``pip install`` would do.

The environment is a virtualenv directory (its ``bin/python -m pip``) or a pip
command (``pip3``, ``python3 -m pip``). :class:`PipDryRun` asks pip itself
(``pip install --dry-run --report``, pip >= 22.2) which distributions an install
would bring in, for what cannot be decided from the installed versions alone: the
latest versions, requirement files, paths and URLs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from opsforge.deploy.commands import quote
from opsforge.deploy.facts.base import Fact

__all__ = ["PipDryRun", "PipEnv", "PipPackages", "PipPlan", "pip_command"]


def pip_command(virtualenv: str | None, executable: str | None) -> str:
    """The pip command line for an environment (shell text)."""
    if virtualenv:
        return f"{quote(virtualenv.rstrip('/') + '/bin/python')} -m pip"
    if executable:
        return executable  # a command the user named: ``pip3``, ``/usr/bin/python3 -m pip``
    return "python3 -m pip"


def _probe(virtualenv: str | None, executable: str | None) -> str:
    """sh that prints ``missing`` and exits when the environment is not there."""
    if virtualenv:
        python = quote(virtualenv.rstrip("/") + "/bin/python")
        return f"[ -x {python} ] || {{ echo missing; exit 0; }}"
    first = (executable or "python3").split()[0]
    return f"command -v {quote(first)} >/dev/null 2>&1 || {{ echo missing; exit 0; }}"


@dataclass(frozen=True, slots=True)
class PipEnv:
    """An environment: ``exists`` False when the virtualenv (or pip command) is missing;
    ``packages`` maps PEP 503 normalized names to versions."""

    exists: bool
    packages: Mapping[str, str]
    pip_error: str = ""  # the interpreter is there but pip failed (a venv without pip)


_FREEZE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True, slots=True)
class PipPackages(Fact[PipEnv]):
    """``pip list --format=freeze`` in an environment."""

    virtualenv: str | None = None
    executable: str | None = None

    name: ClassVar[str] = "pip packages"

    def command(self) -> str:
        pip = pip_command(self.virtualenv, self.executable)
        return (
            f"{_probe(self.virtualenv, self.executable)}\n"
            "echo present\n"
            f"{pip} list --format=freeze --disable-pip-version-check --no-input 2>&1 "
            "|| echo 'pip failed'"
        )

    def parse(self, output: str, exit_code: int) -> PipEnv:
        lines = [line for line in output.split("\n") if line.strip()]
        if lines == ["missing"]:
            return PipEnv(False, {})
        if not lines or lines[0] != "present":
            raise ValueError("expected 'missing' or 'present' first")
        if lines[-1] == "pip failed":
            return PipEnv(True, {}, " ".join(lines[1:-1])[:300] or "pip failed")
        found: dict[str, str] = {}
        for line in lines[1:]:
            m = _FREEZE.match(line.strip())
            if m:
                found[_normalize(m[1])] = m[2]
            elif not line.startswith(("WARNING", "DEPRECATION", "[notice]")):
                raise ValueError(f"not a name==version line: {line!r}")
        return PipEnv(True, found)


@dataclass(frozen=True, slots=True)
class PipPlan:
    """What ``pip install`` would do: (name, version) pairs it would install; ``error``
    when pip refused (no such package, no network, a bad requirements file)."""

    exists: bool
    install: tuple[tuple[str, str], ...] = ()
    error: str = ""


@dataclass(frozen=True, slots=True)
class PipDryRun(Fact[PipPlan]):
    """``pip install --dry-run --report -`` of ``args`` (already quoted shell words:
    requirement specs, ``-r FILE``, ``-U``, extra args), in ``chdir`` when given."""

    args: str
    virtualenv: str | None = None
    executable: str | None = None
    chdir: str | None = None

    name: ClassVar[str] = "pip dry run"

    def command(self) -> str:
        pip = pip_command(self.virtualenv, self.executable)
        cd = f"cd {quote(self.chdir)} || exit 1\n" if self.chdir else ""
        return (
            f"{_probe(self.virtualenv, self.executable)}\n{cd}"
            "echo report\n"
            f"{{ e=$({pip} install --dry-run -q --disable-pip-version-check --no-input "
            f"--report - {self.args} 2>&1 1>&3 3>&-); s=$?; }} 3>&1\n"
            'printf "\\nexit %s\\n%s\\n" "$s" "$e"'
        )

    def parse(self, output: str, exit_code: int) -> PipPlan:
        if output.strip() == "missing":
            return PipPlan(False)
        head, sep, rest = output.partition("report\n")
        if not sep or head.strip():
            raise ValueError("expected 'missing' or a report")
        body, sep, tail = rest.rpartition("\nexit ")
        if not sep:
            raise ValueError("no exit status line")
        status, _, errors = tail.partition("\n")
        if not status.strip().isdigit():
            raise ValueError(f"bad exit status {status!r}")
        if status.strip() != "0":
            message = (
                " ".join(line.strip() for line in errors.split("\n") if line.strip())
                or f"pip exited {status.strip()}"
            )
            return PipPlan(True, error=message[:500])
        try:
            report: Any = json.loads(body)
            items = report["install"]
            install = tuple(
                (_normalize(str(i["metadata"]["name"])), str(i["metadata"]["version"]))
                for i in items
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not a pip installation report ({exc})") from None
        return PipPlan(True, tuple(sorted(install)))
