"""Python code through Bandit's library API: every Bandit test, mapped to findings.

Bandit runs in-process (``BanditManager``) on the files it is handed, with
its default profile (all plugins and blacklist tests); ``# nosec`` is honoured
as Bandit honours it. Its severity and confidence map one to one; files it
could not parse become problems (the scan is then incomplete).
"""

from __future__ import annotations

import bisect
import logging
import warnings
from collections.abc import Sequence
from typing import Any

from opsforge.security.findings import Confidence, Finding, Location, Severity
from opsforge.security.report import Problem
from opsforge.security.scan.files import SourceFile
from opsforge.security.scan.secrets import redact

__all__ = ["scan_python"]

TOOL = "bandit"

#: Short remediations for the tests that fire most; the rest point at Bandit's docs.
_REMEDIATION = {
    "B101": "Raise an exception instead of assert for checks that must hold with python -O.",
    "B102": "Do not exec() strings; call the code directly.",
    "B103": "Give files the narrowest permissions (e.g. 0o600/0o644), never world-writable.",
    "B104": "Bind to a specific interface (127.0.0.1) unless every interface is intended.",
    "B105": "Read the secret from the environment or a secret store, not source code.",
    "B106": "Read the secret from the environment or a secret store, not source code.",
    "B107": "Do not default a password argument to a literal; require it or read it at run time.",
    "B108": "Use tempfile.mkstemp()/TemporaryDirectory() instead of fixed /tmp paths.",
    "B110": "Handle or log the exception; a bare pass hides failures.",
    "B113": "Pass timeout= to every requests call.",
    "B201": "Never run Flask with debug=True in production (it exposes a code console).",
    "B301": "Do not unpickle untrusted data; use JSON or a schema-checked format.",
    "B303": "Use SHA-256 or better for anything security related.",
    "B306": "Use tempfile.mkstemp() (mktemp races).",
    "B307": "Use ast.literal_eval() or parse the input; never eval() it.",
    "B311": "Use the secrets module for tokens, passwords and keys.",
    "B324": "Use hashlib.sha256() or pass usedforsecurity=False for non-security hashes.",
    "B501": "Keep certificate verification on (verify=True / a CA bundle).",
    "B506": "Use yaml.safe_load() (yaml.load can build arbitrary objects).",
    "B507": "Verify SSH host keys (RejectPolicy / known_hosts), never AutoAddPolicy.",
    "B602": "Pass an argument list without shell=True (shlex.quote if a shell is needed).",
    "B605": "Use subprocess.run([...]) with an argument list instead of a shell string.",
    "B608": "Use parameterised queries (placeholders), never string formatting into SQL.",
    "B701": "Create Jinja2 environments with autoescape=True (select_autoescape()).",
}


_PASSWORD_TESTS = frozenset({"B105", "B106", "B107"})


def _convert(issue: Any, rel: str, lines: list[str]) -> Finding:
    from bandit.core import docs_utils

    line = int(issue.lineno) if issue.lineno else None
    snippet = lines[line - 1].strip() if line and 0 < line <= len(lines) else None
    test_id = str(issue.test_id)
    cwe = getattr(getattr(issue, "cwe", None), "id", 0) or 0
    remediation = _REMEDIATION.get(
        test_id, f"See Bandit's documentation of {test_id} ({issue.test})."
    )
    column = int(issue.col_offset) + 1 if issue.col_offset is not None else None
    text = str(issue.text)
    if test_id in _PASSWORD_TESTS:  # "Possible hardcoded password: 'VALUE'": never print VALUE
        value = text.split(": ", 1)[1][1:-1] if ": '" in text else ""
        if value:
            text = text.replace(value, redact(value))
            snippet = snippet.replace(value, redact(value)) if snippet else snippet
    return Finding(
        rule_id=test_id,
        title=str(issue.test).replace("_", " "),
        severity=Severity.parse(str(issue.severity)),
        confidence=Confidence.parse(str(issue.confidence)),
        location=Location(path=rel, line=line, column=column, snippet=snippet),
        tool=TOOL,
        message=text,
        rationale="A password or secret written in source code is readable by everyone with "
        "the code and its history."
        if test_id in _PASSWORD_TESTS
        else text,
        remediation=remediation,
        help_uri=docs_utils.get_url(test_id),
        tags=(f"CWE-{cwe}",) if cwe else (),
    )


_nosec_cache: list[Any] = [None, ()]


def fast_get_nosec(nosec_lines: dict[int, Any], context: dict[str, Any]) -> Any:
    """Bandit's ``utils.get_nosec`` with the same result, without a dict lookup per line.

    Bandit asks, for every node, whether any line of the node's range carries a
    ``# nosec``; for a string inside a large literal that range is the whole
    literal, so the original loop costs (strings x lines) lookups (most of
    Bandit's time on big generated modules). The lines that do carry a nosec
    are few: find the first of them inside the (contiguous, ascending) range
    with a binary search instead.
    """
    linerange = context["linerange"]
    if not nosec_lines or not linerange:
        return None
    if _nosec_cache[0] is not nosec_lines:
        marked = sorted(line for line, value in nosec_lines.items() if value is not None)
        _nosec_cache[:] = [nosec_lines, marked]
    marked = _nosec_cache[1]
    if not marked:
        return None
    low, high = linerange[0], linerange[-1]
    if high - low + 1 != len(linerange):  # not a plain range: the original walk
        for line in linerange:
            found = nosec_lines.get(line)
            if found is not None:
                return found
        return None
    index = bisect.bisect_left(marked, low)
    if index < len(marked) and marked[index] <= high:
        return nosec_lines[marked[index]]
    return None


def _load_bandit() -> tuple[Any, Any]:
    logging.getLogger("bandit").setLevel(logging.CRITICAL)
    # bandit's import loads its report formatters; optional ones log import errors
    logging.getLogger("stevedore.extension").setLevel(logging.CRITICAL)
    with warnings.catch_warnings():  # stevedore deprecation noise from bandit's plugin loading
        warnings.simplefilter("ignore", DeprecationWarning)
        from bandit.core import config as bandit_config
        from bandit.core import manager as bandit_manager
        from bandit.core import utils as bandit_utils
    if getattr(bandit_utils, "get_nosec", None) is not fast_get_nosec:
        bandit_utils.get_nosec = fast_get_nosec
    return bandit_config, bandit_manager


def scan_python(files: Sequence[tuple[SourceFile, str]]) -> tuple[list[Finding], list[Problem]]:
    """Run every Bandit test over ``files`` (file, text already read)."""
    if not files:
        return [], []
    bandit_config, bandit_manager = _load_bandit()
    conf = bandit_config.BanditConfig()
    mgr = bandit_manager.BanditManager(conf, "file", quiet=True)
    by_path = {file.path: (file, text) for file, text in files}
    mgr.files_list = sorted(by_path)
    mgr.run_tests()
    findings = []
    for issue in mgr.get_issue_list():
        file, text = by_path[issue.fname]
        findings.append(_convert(issue, file.rel, text.splitlines()))
    problems = [
        Problem(f"Python code not checked: {reason}", path=by_path[fname][0].rel, tool=TOOL)
        for fname, reason in mgr.skipped
        if fname in by_path
    ]
    return findings, problems
