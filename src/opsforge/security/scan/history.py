"""Secrets in git history (``opsforge scan --history``).

Streams ``git log --all -p -U0`` and runs the secret scanner over the lines
each commit added to each file, so a secret that was committed and later
removed is still found (only under the scanned directory, with paths relative to it,
when that is a subdirectory of the repository). Each secret is reported once, at the oldest commit
that added it (the message names the commit, author and date); one that is
still in the work tree is reported by the file scan instead.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from opsforge.security.findings import Finding
from opsforge.security.report import Problem
from opsforge.security.scan.files import BINARY_SUFFIXES, DEFAULT_SKIP_DIRS, is_skipped
from opsforge.security.scan.secrets import scan_secrets

__all__ = ["scan_history"]

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_MARK = "\x1eopsforge-commit "


def _added_chunks(lines: Iterator[str]) -> Iterator[tuple[str, str, list[tuple[int, str]]]]:
    """(commit header, path, [(line number, added text)]) per file of each commit."""
    header = ""
    path: str | None = None
    added: list[tuple[int, str]] = []
    number = 0
    for raw in lines:
        line = raw.rstrip("\n")
        if line.startswith(_MARK) or line.startswith("diff --git "):
            if path is not None and added:
                yield header, path, added
            added, path = [], None
            if line.startswith(_MARK):
                header = line[len(_MARK) :]
            continue
        if line.startswith("+++ "):
            target = line[4:]
            path = target[2:] if target.startswith("b/") else None
            continue
        match = _HUNK.match(line)
        if match:
            number = int(match.group(1))
            continue
        if path is not None and line.startswith("+"):
            added.append((number, line[1:]))
            number += 1
    if path is not None and added:
        yield header, path, added


def scan_history(root: Path, exclude: tuple[str, ...] = ()) -> tuple[list[Finding], list[Problem]]:
    """Secrets added in any commit reachable from any ref of the repository at ``root``."""
    command = [
        "git", "-C", str(root), "log", "--all", "-p", "-U0", "--no-color", "--no-ext-diff",
        "--no-renames", "--relative", f"--format={_MARK}%H%x1f%an%x1f%as",
    ]  # fmt: skip
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except OSError as exc:
        return [], [Problem(f"history not scanned: cannot run git: {exc}", tool="secrets")]
    found: dict[tuple[str, str | None, str | None], Finding] = {}
    assert process.stdout is not None
    try:
        for header, path, added in _added_chunks(process.stdout):
            if is_skipped(path, DEFAULT_SKIP_DIRS, exclude) or path.lower().endswith(
                tuple(BINARY_SUFFIXES)
            ):
                continue
            commit, author, date = [*header.split("\x1f"), "", "", ""][:3]
            text = "\n".join(content for _, content in added)
            for finding in scan_secrets(path, text):
                index = (finding.location.line or 1) - 1
                real_line = added[index][0] if index < len(added) else None
                where = f"in git history: commit {commit[:12]} by {author} on {date}"
                finding = replace(
                    finding,
                    location=replace(finding.location, line=real_line, column=None),
                    message=f"{finding.text} ({where})",
                    tags=(*finding.tags, "history"),
                )
                # git log lists newest first: a later hit is an older commit and wins
                found[(finding.rule_id, finding.location.path, finding.key)] = finding
    finally:
        process.stdout.close()
        stderr = process.stderr.read() if process.stderr else ""
        code = process.wait()
    if code != 0:
        detail = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {code}"
        return list(found.values()), [
            Problem(f"history not scanned: git log failed: {detail}", tool="secrets")
        ]
    return list(found.values()), []
