"""Secrets in git history, found even after they were removed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from opsforge.security.scan import ScanOptions, run_scan

from . import corpus


def git(root: Path, *args: str) -> None:
    who = {"NAME": "Dev One", "EMAIL": "dev@example.org", "DATE": "2026-01-02T03:04:05Z"}
    env = dict(os.environ)
    for role in ("AUTHOR", "COMMITTER"):
        env.update({f"GIT_{role}_{key}": value for key, value in who.items()})
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=env)


def test_removed_secret_is_found_in_history_only_with_history(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "app.py").write_text(f'import os\n\n\nTOKEN = "{corpus.GITHUB}"\n')
    (tmp_path / ".env").write_text(f"STRIPE={corpus.STRIPE}\n")
    git(tmp_path, "add", "app.py", ".env")
    git(tmp_path, "commit", "-q", "-m", "add app")
    (tmp_path / "app.py").write_text('import os\n\n\nTOKEN = os.environ["TOKEN"]\n')
    git(tmp_path, "commit", "-q", "-am", "read the token from the environment")

    plain = run_scan(ScanOptions(root=tmp_path, scanners=frozenset({"secrets"}), jobs=1))
    assert [f.rule_id for f in plain.findings] == ["secret.stripe-key"]

    full = run_scan(
        ScanOptions(root=tmp_path, scanners=frozenset({"secrets"}), history=True, jobs=1)
    )
    rules = sorted((f.rule_id, f.location.path, f.location.line) for f in full.findings)
    # the Stripe key is still in the tree: reported once, by the file scan
    assert rules == [("secret.github-token", "app.py", 4), ("secret.stripe-key", ".env", 1)]
    token = next(f for f in full.findings if f.rule_id == "secret.github-token")
    assert "in git history: commit" in token.message
    assert "by Dev One on 2026-01-02" in token.message
    assert corpus.GITHUB not in token.message
    assert "history" in token.tags
    assert full.problems == ()


def test_history_outside_a_repository_says_so(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("nothing\n")
    report = run_scan(
        ScanOptions(root=tmp_path, scanners=frozenset({"secrets"}), history=True, jobs=1)
    )
    (problem,) = report.problems
    assert problem.message.startswith("history not scanned: git log failed")
    assert report.incomplete


def test_history_of_a_subdirectory_uses_its_paths(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "app.py").write_text(f'TOKEN = "{corpus.GITHUB}"\n')
    (tmp_path / "other.py").write_text(f'KEY = "{corpus.STRIPE}"\n')
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "add")
    (tmp_path / "svc" / "app.py").write_text("TOKEN = None\n")
    (tmp_path / "other.py").write_text("KEY = None\n")
    git(tmp_path, "commit", "-q", "-am", "remove")
    report = run_scan(
        ScanOptions(root=tmp_path / "svc", scanners=frozenset({"secrets"}), history=True, jobs=1)
    )
    assert [(f.rule_id, f.location.path) for f in report.findings] == [
        ("secret.github-token", "app.py")
    ]
