"""``rules:``, ``only:/except:`` and ``workflow:rules``, evaluated at load time.

``rules``: the first rule whose ``if``, ``changes`` and ``exists`` all hold decides
(its ``when``, ``allow_failure``, ``variables``, ``needs``); no match = the job is not
in the pipeline. ``changes`` compares the work tree against the base ref
(``--base-ref``, default ``HEAD~1``; a merge request compares with the merge base);
``exists`` globs the project.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsforge.pipelines.errors import PipelineError
from opsforge.pipelines.gitinfo import changed_files
from opsforge.pipelines.gitlab.expr import parse_expression
from opsforge.pipelines.gitlab.yamlsource import YMap
from opsforge.pipelines.variables import expand

__all__ = ["RuleContext", "RuleOutcome", "evaluate_only_except", "evaluate_rules", "glob_regex"]

RULE_KEYS = {
    "if",
    "changes",
    "exists",
    "when",
    "allow_failure",
    "variables",
    "needs",
    "start_in",
    "interruptible",
}
ONLY_KEYWORDS = {
    "branches": lambda c: bool(c.branch),
    "tags": lambda c: bool(c.tag),
    "merge_requests": lambda c: c.source == "merge_request_event",
    "pushes": lambda c: c.source == "push",
    "schedules": lambda c: c.source == "schedule",
    "triggers": lambda c: c.source == "trigger",
    "web": lambda c: c.source == "web",
    "api": lambda c: c.source == "api",
    "pipelines": lambda c: c.source == "pipeline",
    "external": lambda c: c.source == "external",
    "chat": lambda c: c.source == "chat",
    "external_pull_requests": lambda c: c.source == "external_pull_request_event",
}


@functools.cache
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex for a GitLab path glob (``**``, ``*``, ``?``, ``{a,b}``)."""
    out = ""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
            continue
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        if ch == "*":
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "{":
            end = pattern.find("}", i)
            if end > i:
                out += "(?:" + "|".join(re.escape(p) for p in pattern[i + 1 : end].split(",")) + ")"
                i = end + 1
                continue
            out += re.escape(ch)
        else:
            out += re.escape(ch)
        i += 1
    if not any(ch in pattern for ch in "*?{"):
        return re.compile(out.rstrip("/") + r"(?:/.*)?\Z")  # a plain path also matches under it
    return re.compile(out + r"\Z")


@dataclass
class RuleContext:
    """What rules look at: variables, the project, the pipeline source and refs."""

    root: Path
    env: Mapping[str, str]
    source: str = "push"
    branch: str = ""
    tag: str = ""
    base_ref: str | None = None
    _changes: dict[str | None, list[str] | None] = field(default_factory=dict)

    def changed(self, compare_to: str | None) -> list[str] | None:
        key = compare_to or self.base_ref
        if key not in self._changes:
            self._changes[key] = changed_files(self.root, key)
        return self._changes[key]

    def any_changed(self, patterns: Sequence[str], compare_to: str | None) -> bool:
        files = self.changed(compare_to)
        if files is None:
            return True
        regexes = [glob_regex(expand(p, self.env).lstrip("/")) for p in patterns]
        return any(rx.match(f) for f in files for rx in regexes)

    def any_exists(self, patterns: Sequence[str]) -> bool:
        for pattern in patterns:
            rel = expand(pattern, self.env).lstrip("/")
            if any(ch in rel for ch in "*?[") and next(iter(self.root.glob(rel)), None) is not None:
                return True
            if (self.root / rel).exists():
                return True
        return False


@dataclass(frozen=True)
class RuleOutcome:
    included: bool
    reason: str
    expression: str = ""
    when: str | None = None
    allow_failure: Any = None
    variables: Mapping[str, Any] | None = None
    needs: Any = None


def _paths(value: Any) -> tuple[list[str], str | None]:
    if isinstance(value, Mapping):
        paths = value.get("paths") or []
        return [str(p) for p in paths], value.get("compare_to")
    if isinstance(value, list):
        return [str(p) for p in value], None
    return [str(value)], None


def evaluate_rules(
    rules: Any, ctx: RuleContext, *, where: tuple[str, int | None], job: str | None
) -> RuleOutcome:
    path, line = where
    if not isinstance(rules, list):
        raise PipelineError("rules must be a list", path=path, line=line, job=job)
    for number, rule in enumerate(rules, 1):
        if not isinstance(rule, Mapping):
            raise PipelineError(f"rule {number} must be a mapping", path=path, line=line, job=job)
        rline = rule.line if isinstance(rule, YMap) else line
        unknown = set(rule) - RULE_KEYS
        if unknown:
            raise PipelineError(
                f"rule {number}: unknown keyword {sorted(unknown)[0]!r}",
                path=path,
                line=rline,
                job=job,
            )
        text = ""
        if "if" in rule:
            text = str(rule["if"])
            if not parse_expression(text, path=path, line=rline, job=job).evaluate(ctx.env):
                continue
        if "changes" in rule:
            patterns, compare = _paths(rule["changes"])
            if not ctx.any_changed(patterns, compare):
                continue
        if "exists" in rule:
            patterns, _ = _paths(rule["exists"])
            if not ctx.any_exists(patterns):
                continue
        when = rule.get("when")
        described = f"rule {number}" + (f" ({text})" if text else "") + " matched"
        if when == "never":
            return RuleOutcome(False, f"{described}: when: never", text)
        return RuleOutcome(
            True,
            described,
            text,
            when,
            rule.get("allow_failure"),
            rule.get("variables"),
            rule.get("needs"),
        )
    return RuleOutcome(False, f"no rule matched ({len(rules)} rules)")


def _ref_matches(item: str, ctx: RuleContext) -> bool:
    if item in ONLY_KEYWORDS:
        check: Callable[[RuleContext], bool] = ONLY_KEYWORDS[item]
        return check(ctx)
    ref = ctx.tag or ctx.branch
    if len(item) > 1 and item.startswith("/") and item.rstrip("i").endswith("/"):
        flags = re.I if item.endswith("i") else 0
        return re.search(item[1 : item.rstrip("i").rindex("/")], ref, flags) is not None
    return item == ref


def _only_matches(spec: Any, ctx: RuleContext, path: str, line: int | None, job: str) -> bool:
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, list):
        return any(_ref_matches(str(i), ctx) for i in spec)
    if not isinstance(spec, Mapping):
        raise PipelineError(
            "only/except must be a list or a mapping", path=path, line=line, job=job
        )
    results = []
    if "refs" in spec:
        results.append(any(_ref_matches(str(i), ctx) for i in spec["refs"]))
    if "variables" in spec:
        results.append(
            any(
                parse_expression(str(e), path=path, line=line, job=job).evaluate(ctx.env)
                for e in spec["variables"]
            )
        )
    if "changes" in spec:
        patterns, compare = _paths(spec["changes"])
        results.append(ctx.any_changed(patterns, compare))
    return all(results) if results else True


def evaluate_only_except(
    job: Mapping[str, Any], ctx: RuleContext, *, where: tuple[str, int | None], name: str
) -> RuleOutcome:
    path, line = where
    only = job.get("only", ["branches", "tags"])
    if not _only_matches(only, ctx, path, line, name):
        return RuleOutcome(
            False, f"only: {only!r} does not match ref {ctx.tag or ctx.branch!r} ({ctx.source})"
        )
    if "except" in job and _only_matches(job["except"], ctx, path, line, name):
        return RuleOutcome(False, f"except: {job['except']!r} matches")
    return RuleOutcome(True, "only/except match")
