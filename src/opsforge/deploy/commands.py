"""Commands as values: what a step does on a host, quoted once, secrets masked when shown.

An operation's plan is a tuple of these. They are data: printable, comparable,
testable without a host. :mod:`opsforge.deploy.script` turns them into one
POSIX sh script per host.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field

from opsforge.types import Secret

__all__ = ["Action", "Command", "WriteFile", "mask", "quote"]


def quote(value: str | Secret) -> str:
    """Shell-quote a value (a Secret is revealed: only for the text that runs)."""
    return shlex.quote(value.reveal() if isinstance(value, Secret) else value)


def mask(text: str, secrets: Iterable[Secret]) -> str:
    """``text`` with every secret's value (and its quoted form) replaced by ``***``."""
    for secret in secrets:
        value = secret.reveal()
        if not value:
            continue
        quoted = shlex.quote(value)
        if quoted != value:  # the quoted form first: it contains the bare one
            text = text.replace(quoted, "***")
        text = text.replace(value, "***")
    return text


@dataclass(frozen=True, slots=True)
class Command:
    """A shell command line. ``secrets`` are values inside ``text`` that must never show."""

    text: str
    secrets: tuple[Secret, ...] = ()

    @classmethod
    def build(cls, *parts: str | Secret, raw: Iterable[str] = ()) -> Command:
        """Join quoted ``parts`` with spaces; ``raw`` words (operators) are appended as-is."""
        secrets = tuple(p for p in parts if isinstance(p, Secret))
        words = [quote(p) for p in parts]
        words.extend(raw)
        return cls(" ".join(words), secrets)

    def shown(self) -> str:
        return mask(self.text, self.secrets)

    def __str__(self) -> str:
        return self.shown()


@dataclass(frozen=True, slots=True)
class WriteFile:
    """Write ``content`` to ``path`` atomically (temp file in the same directory + rename)."""

    path: str
    content: bytes
    mode: int | None = None
    owner: str | None = None
    group: str | None = None
    secrets: tuple[Secret, ...] = field(default=(), compare=False)
    #: a command that must accept the new file before it replaces the old one; ``%s``
    #: stands for the new file (Ansible's ``validate``: ``visudo -cf %s``, ``sshd -t -f %s``)
    validate: str | None = None

    def shown(self) -> str:
        extra = f" mode {self.mode:04o}" if self.mode is not None else ""
        if self.owner or self.group:
            extra += f" owner {self.owner or ''}:{self.group or ''}"
        if self.validate:
            extra += f", validated by {self.validate}"
        return f"write {self.path} ({len(self.content)} bytes{extra})"

    def __str__(self) -> str:
        return self.shown()


Action = Command | WriteFile
