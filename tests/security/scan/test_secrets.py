"""Secrets: every planted credential found, no look-alike flagged, nothing printed."""

from __future__ import annotations

import json
from pathlib import Path

from opsforge.security import render_json, render_junit, render_sarif
from opsforge.security.scan import ScanOptions, run_scan
from opsforge.security.scan.secrets import scan_secrets

from . import corpus


def test_precision_and_recall_on_the_corpus(tmp_path: Path) -> None:
    corpus.write_cases(tmp_path, corpus.SECRETS + corpus.LOOK_ALIKES)
    report = run_scan(ScanOptions(root=tmp_path, scanners=frozenset({"secrets"}), jobs=1))
    expected = {(c.path, rule, line) for c in corpus.SECRETS for rule, line in c.expected}
    found = {(f.location.path, f.rule_id, f.location.line) for f in report.findings}
    true_positives = expected & found
    precision = len(true_positives) / len(found)
    recall = len(true_positives) / len(expected)
    summary = {
        "expected": len(expected),
        "reported": len(found),
        "true_positives": len(true_positives),
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "missed": sorted(expected - found),
        "false_positives": sorted(found - expected),
    }
    print("secrets corpus:", json.dumps(summary))
    assert summary["missed"] == [], summary
    assert summary["false_positives"] == [], summary
    assert len(expected) >= 20


def test_no_output_format_shows_a_planted_secret(tmp_path: Path) -> None:
    corpus.write_cases(tmp_path, corpus.SECRETS)
    report = run_scan(ScanOptions(root=tmp_path, scanners=frozenset({"secrets"}), jobs=1))
    assert len(report.findings) >= 20
    documents = [render_json(report), render_sarif(report), render_junit(report)]
    for value in corpus.secret_values():
        for document in documents:
            assert value not in document
    aws = next(f for f in report.findings if f.rule_id == "secret.aws-access-key")
    assert aws.location.snippet == "AWS_ACCESS_KEY_ID=AKIA****"


def test_fingerprint_is_the_secret_not_the_line(tmp_path: Path) -> None:
    token = corpus.GITHUB
    first = scan_secrets("a.py", f'TOKEN = "{token}"\n')[0]
    moved = scan_secrets("a.py", f'\n\n# moved down\n    TOKEN  =  "{token}"\n')[0]
    other = scan_secrets("a.py", f'TOKEN = "{token[:-1]}Z"\n')[0]
    assert first.fingerprint == moved.fingerprint
    assert first.fingerprint != other.fingerprint


def test_lock_files_get_provider_rules_only() -> None:
    text = f'password = "{corpus.DB_PASSWORD}"\ntoken = "{corpus.GITLAB}"\n'
    found = scan_secrets("poetry.lock", text)
    assert [f.rule_id for f in found] == ["secret.gitlab-token"]
    both = scan_secrets("config.toml", text)
    assert sorted(f.rule_id for f in both) == ["secret.gitlab-token", "secret.password-assignment"]


def test_text_whose_lowercase_changes_length_is_still_scanned_right() -> None:
    text = f'# İstanbul office\nDB_PASSWORD = "{corpus.DB_PASSWORD}"\n'
    assert len(text.lower()) != len(text)
    (finding,) = scan_secrets("settings.py", text)
    assert (finding.rule_id, finding.location.line) == ("secret.password-assignment", 2)


def test_colours_and_allowlisted_lines_are_not_secrets() -> None:
    text = (
        'STYLES = {Token: "#d0d0d0", Token.String: "#ae81ff"}\n'
        'secret = "s3cr3tXy9"  # pragma: allowlist secret\n'
        'secret = "s3cr3tXy9"\n'
    )
    assert [(f.rule_id, f.location.line) for f in scan_secrets("style.py", text)] == [
        ("secret.password-assignment", 3)
    ]
