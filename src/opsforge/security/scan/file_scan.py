"""Scanning one batch of files: every scanner over each file's text, read once.

This runs inside the worker processes of :mod:`.runner` (so it returns plain,
picklable data) and in-process for small trees.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from opsforge.security.findings import Finding
from opsforge.security.report import Problem
from opsforge.security.scan import suppressions
from opsforge.security.scan.ci import ci_kind, scan_github_workflow, scan_gitlab_ci
from opsforge.security.scan.code import scan_python
from opsforge.security.scan.dependencies import Pin, dependency_kind, read_pins
from opsforge.security.scan.docker import is_dockerfile, scan_dockerfile
from opsforge.security.scan.files import SourceFile, read_text
from opsforge.security.scan.kubernetes import scan_manifests
from opsforge.security.scan.secrets import find_secrets, redact
from opsforge.security.scan.ssh_config import scan_ssh_config, ssh_config_kind
from opsforge.security.scan.yaml_lines import YamlProblem, load_documents

__all__ = ["SCANNERS", "BatchResult", "scan_batch"]

#: The scanner names ``--only``/``--skip`` accept.
SCANNERS = ("code", "secrets", "dependencies", "config")


@dataclass
class BatchResult:
    findings: list[Finding] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    pins: list[Pin] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    binary: list[str] = field(default_factory=list)
    python_files: int = 0


def _is_python(file: SourceFile, text: str) -> bool:
    if file.rel.endswith((".py", ".pyw")):
        return True
    first = text[:100]
    return first.startswith("#!") and "python" in first.split("\n", 1)[0]


def _config(file: SourceFile, text: str) -> tuple[list[Finding], list[Problem]]:
    rel = file.rel
    if is_dockerfile(rel):
        return scan_dockerfile(rel, text), []
    kind = ssh_config_kind(rel)
    if kind is not None:
        return scan_ssh_config(rel, text, kind), []
    if not rel.endswith((".yml", ".yaml")):
        return [], []
    ci = ci_kind(rel)
    if ci is None and not ("apiVersion" in text and "kind" in text):
        return [], []
    try:
        documents = load_documents(text)
    except YamlProblem as exc:
        return [], [Problem(f"not checked: {exc.message}", path=rel, line=exc.line, tool="config")]
    if ci == "github":
        return [f for d in documents for f in scan_github_workflow(rel, d)], []
    if ci == "gitlab":
        return [f for d in documents for f in scan_gitlab_ci(rel, d)], []
    return scan_manifests(rel, documents), []


def _redact(findings: list[Finding], values: set[str]) -> list[Finding]:
    """Other scanners' snippets and messages must not show a secret the secret scanner found."""
    result = []
    for finding in findings:
        snippet, message = finding.location.snippet or "", finding.message
        if finding.tool != "secrets" and any(v in snippet or v in message for v in values):
            for value in values:
                snippet = snippet.replace(value, redact(value))
                message = message.replace(value, redact(value))
            location = replace(finding.location, snippet=snippet or None)
            finding = replace(finding, location=location, message=message)
        result.append(finding)
    return result


def scan_batch(files: list[SourceFile], scanners: frozenset[str], max_size: int) -> BatchResult:
    result = BatchResult()
    per_file: dict[str, list[Finding]] = defaultdict(list)
    texts: dict[str, str] = {}
    python: list[tuple[SourceFile, str]] = []
    secret_values: dict[str, set[str]] = defaultdict(set)
    for file in files:
        read = read_text(file, max_size)
        if read.binary:
            result.binary.append(file.rel)
            continue
        if read.text is None:
            if read.problem is not None:
                result.problems.append(read.problem)
            continue
        text = read.text
        result.files += 1
        result.bytes += len(text)
        texts[file.rel] = text
        if "secrets" in scanners:
            for finding, value in find_secrets(file.rel, text):
                per_file[file.rel].append(finding)
                secret_values[file.rel].add(value)
        if "config" in scanners:
            found, problems = _config(file, text)
            per_file[file.rel].extend(found)
            result.problems.extend(problems)
        if "dependencies" in scanners:
            kind = dependency_kind(file.rel)
            if kind is not None:
                pins, problems = read_pins(file.rel, text, kind)
                result.pins.extend(pins)
                result.problems.extend(problems)
        if "code" in scanners and _is_python(file, text):
            python.append((file, text))
    if python:
        result.python_files = len(python)
        found, problems = scan_python(python)
        result.problems.extend(problems)
        for finding in found:
            per_file[finding.location.path or ""].append(finding)
    for rel, findings in per_file.items():
        text = texts.get(rel, "")
        if secret_values.get(rel):
            findings = _redact(findings, secret_values[rel])
        inline = suppressions.parse(text)
        if inline:
            findings = suppressions.apply_suppressions(findings, inline, rel, text)
        result.findings.extend(findings)
    return result
