"""Inline suppressions: ``# opsforge: ignore[RULE, RULE2] reason``.

A comment at the end of a line silences the named rules on that line; a
comment alone on its line silences them on the next line. Rules may be
globs (``secret.*``). A reason is required: a suppression without one is
not honoured and is itself reported (``opsforge.suppression-without-reason``).
The comment may start with ``#`` or ``//``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from opsforge.security.findings import Check, Finding, Location, Severity, Suppression

__all__ = ["SUPPRESSION_WITHOUT_REASON", "InlineSuppression", "apply_suppressions", "parse"]

_COMMENT = re.compile(r"(?:#|//)\s*opsforge:\s*ignore\[([^\]]*)\]([^\n]*)")

SUPPRESSION_WITHOUT_REASON = Check(
    "opsforge.suppression-without-reason",
    "Suppression comment without a reason",
    Severity.MEDIUM,
    tool="opsforge",
    rationale=(
        "A suppression silences a check for good; without a reason nobody can later tell "
        "whether it is still right. It is not honoured."
    ),
    remediation="Write why the finding is acceptable: # opsforge: ignore[RULE] reason",
)


@dataclass(frozen=True)
class InlineSuppression:
    """One suppression comment: the line it silences and the rule patterns."""

    target_line: int
    comment_line: int
    rules: tuple[str, ...]
    reason: str

    def covers(self, rule_id: str) -> bool:
        return any(fnmatch.fnmatchcase(rule_id, pattern) for pattern in self.rules)


def parse(text: str) -> list[InlineSuppression]:
    """Every suppression comment in ``text`` (cheap when there is none)."""
    if "opsforge:" not in text:
        return []
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _COMMENT.search(line)
        if match is None:
            continue
        rules = tuple(r.strip() for r in match.group(1).split(",") if r.strip())
        reason = match.group(2).strip().lstrip("-:").strip()
        alone = line[: match.start()].strip() == ""
        target = number + 1 if alone else number
        found.append(InlineSuppression(target, number, rules or ("*",), reason))
    return found


def apply_suppressions(
    findings: Iterable[Finding], suppressions: list[InlineSuppression], rel: str, text: str
) -> list[Finding]:
    """Mark findings a reasoned suppression covers; report suppressions without a reason."""
    result = []
    for finding in findings:
        line = finding.location.line
        for item in suppressions:
            if item.reason and line == item.target_line and item.covers(finding.rule_id):
                finding = replace(
                    finding, suppression=Suppression(item.reason, line=item.comment_line)
                )
                break
        result.append(finding)
    lines = text.splitlines()
    for item in suppressions:
        if not item.reason:
            snippet = (
                lines[item.comment_line - 1].strip() if item.comment_line <= len(lines) else ""
            )
            result.append(
                SUPPRESSION_WITHOUT_REASON.at(
                    Location(path=rel, line=item.comment_line, snippet=snippet),
                    message=f"ignore[{', '.join(item.rules)}] has no reason and is not honoured",
                )
            )
    return result
