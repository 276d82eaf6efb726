"""The finding model: severities, locations, content-based fingerprints."""

from __future__ import annotations

from dataclasses import replace

import pytest

from opsforge.security import Confidence, Finding, Location, Severity, number_occurrences


def finding(
    path: str = "app/db.py", line: int = 3, snippet: str = "eval(x)", **kw: object
) -> Finding:
    base: dict[str, object] = {
        "rule_id": "B307",
        "title": "Use of eval",
        "severity": Severity.MEDIUM,
        "tool": "bandit",
        "location": Location(path=path, line=line, column=5, snippet=snippet),
    }
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def test_severity_orders_and_parses() -> None:
    assert Severity.CRITICAL > Severity.HIGH > Severity.MEDIUM > Severity.LOW
    assert Severity.parse("High") is Severity.HIGH
    assert Confidence.parse(" low ") is Confidence.LOW
    with pytest.raises(ValueError, match="choose from low, medium, high, critical"):
        Severity.parse("severe")


def test_fingerprint_survives_line_shift_and_indentation() -> None:
    before = finding(line=3, snippet="    eval(x)")
    after = finding(line=40, snippet="eval(x)  ")
    assert before.fingerprint == after.fingerprint
    assert len(before.fingerprint) == 32


def test_fingerprint_survives_other_checkout_path_but_not_other_file() -> None:
    assert finding(path="./app/db.py").fingerprint == finding(path="app/db.py").fingerprint
    assert finding(path="app\\db.py").fingerprint == finding(path="app/db.py").fingerprint
    assert finding(path="app/other.py").fingerprint != finding().fingerprint
    assert finding(path=".github/x.yml").fingerprint != finding(path="github/x.yml").fingerprint


def test_fingerprint_changes_with_rule_and_content() -> None:
    assert finding(rule_id="B102").fingerprint != finding().fingerprint
    assert finding(snippet="eval(y)").fingerprint != finding().fingerprint
    # an explicit key (a secret's hash) wins over the snippet
    keyed = finding(key="sha256:abc", snippet="token = '***'")
    assert keyed.fingerprint == finding(key="sha256:abc", snippet="other").fingerprint


def test_host_location_fingerprint() -> None:
    one = finding(location=Location(host="web1"), rule_id="ssh.root-login")
    two = finding(location=Location(host="web2"), rule_id="ssh.root-login")
    assert one.fingerprint != two.fingerprint
    assert str(Location(host="web1", path="/etc/ssh/sshd_config", line=4)) == (
        "web1 /etc/ssh/sshd_config:4"
    )
    with pytest.raises(ValueError, match="path or a host"):
        Location()


def test_duplicates_in_one_file_get_distinct_stable_fingerprints() -> None:
    first = finding(line=3)
    second = finding(line=9)
    numbered = number_occurrences([second, first])
    assert [f.location.line for f in numbered] == [3, 9]
    assert [f.occurrence for f in numbered] == [0, 1]
    assert numbered[0].fingerprint != numbered[1].fingerprint
    # shifting both lines keeps both fingerprints
    shifted = number_occurrences(
        [
            replace(first, location=replace(first.location, line=13)),
            replace(second, location=replace(second.location, line=19)),
        ]
    )
    assert [f.fingerprint for f in shifted] == [f.fingerprint for f in numbered]


def test_finding_is_frozen() -> None:
    with pytest.raises(AttributeError):
        finding().rule_id = "X"  # type: ignore[misc]
