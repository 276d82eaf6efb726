"""Facts for command guards: does a path exist, does a check command succeed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from opsforge.deploy.commands import quote
from opsforge.deploy.facts.base import Fact

__all__ = ["CommandSucceeds", "PathExists"]


@dataclass(frozen=True, slots=True)
class PathExists(Fact[bool]):
    """``test -e PATH`` (a dangling symlink counts as existing, like Ansible's creates)."""

    name: ClassVar[str] = "path_exists"
    path: str

    def command(self) -> str:
        p = quote(self.path)
        return f"if [ -e {p} ] || [ -L {p} ]; then echo yes; else echo no; fi"

    def parse(self, output: str, exit_code: int) -> bool:
        word = output.strip()
        if word not in ("yes", "no"):
            raise ValueError(f"expected yes or no, got {word!r}")
        return word == "yes"


@dataclass(frozen=True, slots=True)
class CommandSucceeds(Fact[bool]):
    """Whether ``command`` exits 0 (for ``unless``/``onlyif``). It runs at fact time, so it
    must be read-only; its output is discarded."""

    name: ClassVar[str] = "command_succeeds"
    command_text: str

    def command(self) -> str:
        return f"if ( {self.command_text} ) >/dev/null 2>&1; then echo 0; else echo $?; fi"

    def parse(self, output: str, exit_code: int) -> bool:
        word = output.strip()
        if not word.lstrip("-").isdigit():
            raise ValueError(f"expected an exit code, got {word!r}")
        return word == "0"
