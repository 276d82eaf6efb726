"""Version arithmetic of the package operations, checked against the real thing: Debian
ordering against ``dpkg --compare-versions`` (when dpkg is here), PEP 440 ordering and
specifiers against ``packaging`` (when importable)."""

from __future__ import annotations

import itertools
import shutil
import subprocess

import pytest

from opsforge.deploy.operations.packages_versions import (
    Requirement,
    deb_compare,
    glob_match,
    pep440_key,
    satisfies,
)

DEB = [
    "1.0", "1.0-1", "1.0-2", "1.0~rc1-1", "1.0~~a", "1.0+b1", "1.0.1", "1:0.9", "2:0.1",
    "0:1.0-1", "1.0a", "1.0-1ubuntu1", "1.0-1+deb12u1", "1.22.1-9", "1.24.0-1", "10.0",
    "1.0-0", "1.0.0", "5.2.15-2+b8", "5.2.15-2+b13", "1.0-1~bpo12+1",
]  # fmt: skip


def test_debian_order_basics() -> None:
    assert deb_compare("1.0~rc1-1", "1.0-1") < 0
    assert deb_compare("2:0.1", "1:9.9") > 0
    assert deb_compare("5.2.15-2+b13", "5.2.15-2+b8") > 0
    assert deb_compare("1.0", "1.0") == 0
    assert deb_compare("0:1.0-1", "1.0-1") == 0
    assert glob_match("15.5-0+deb12u2", "15.5*")
    assert not glob_match("15.6-0", "15.5*")


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="no dpkg here")
def test_debian_order_agrees_with_dpkg() -> None:
    for a, b in itertools.combinations(DEB, 2):
        ours = deb_compare(a, b)
        for op, expected in (("lt", ours < 0), ("eq", ours == 0), ("gt", ours > 0)):
            result = subprocess.run(["dpkg", "--compare-versions", a, op, b], check=False)
            assert (result.returncode == 0) == expected, f"{a} {op} {b}"


PEP = [
    "1.0", "1.0.0", "1.0.post1", "1.0a1", "1.0b2", "1.0rc1", "1.0.dev1", "1.0a1.dev1",
    "1!0.5", "2.0", "1.0+local.1", "1.0+local.2", "1.0+abc", "1.1", "0.9.9", "1.0.post1.dev1",
    "3.0.3", "22.0.0",
]  # fmt: skip
SPECS = ["==1.0", "==1.*", "!=1.0", ">=1.0", "<2", ">1.0", "<=1.0", "~=1.0", "~=0.9.1", "==1.0.*"]


def test_pep440_order_and_specifiers_agree_with_packaging() -> None:
    version = pytest.importorskip("packaging.version")
    specifiers = pytest.importorskip("packaging.specifiers")
    for a, b in itertools.combinations(PEP, 2):
        ka, kb = pep440_key(a), pep440_key(b)
        va, vb = version.Version(a), version.Version(b)
        assert (ka < kb) == (va < vb), f"{a} < {b}"
        assert (ka == kb) == (va == vb), f"{a} == {b}"
    for v, spec in itertools.product(PEP, SPECS):
        req = Requirement.parse(f"pkg{spec}")
        assert req is not None
        expected = specifiers.SpecifierSet(spec).contains(v, prereleases=True)
        assert satisfies(v, req) == expected, f"{v} {spec}"


def test_requirement_parsing() -> None:
    req = Requirement.parse("Django[argon2] >= 4.2, < 5")
    assert req is not None
    assert (req.name, req.key, req.extras, req.specifiers) == (
        "Django",
        "django",
        "[argon2]",
        ((">=", "4.2"), ("<", "5")),
    )
    for not_named in ("./dist/x.whl", "pkg @ https://x/y.whl", "pkg; python_version<'3'"):
        assert Requirement.parse(not_named) is None
    assert Requirement.parse("pkg>=not-a-version") is None
