"""A small OSV-format advisory database and lock files with known-vulnerable pins.

The advisory ids are fixture ids (``OPSF-TEST-*``); the packages, affected
ranges and CVE aliases follow real advisories. Records are written the two ways
real databases ship them: YAML (the PyPA advisory-database repository) and
JSON (OSV's exports), and can be packed as .zip or .tar.gz.
"""

from __future__ import annotations

import json
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

RECORDS: dict[str, dict[str, Any]] = {
    "requests/OPSF-TEST-0001.yaml": {
        "id": "OPSF-TEST-0001",
        "summary": "requests sends Authorization headers to HTTP after an HTTPS redirect",
        "aliases": ["CVE-2018-18074"],
        "database_specific": {"severity": "MODERATE"},
        "references": [{"type": "ADVISORY", "url": "https://example.org/OPSF-TEST-0001"}],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "requests"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.20.0"}]}
                ],
            }
        ],
    },
    "pyyaml/OPSF-TEST-0002.json": {
        "id": "OPSF-TEST-0002",
        "summary": "PyYAML full_load runs arbitrary code",
        "aliases": ["CVE-2020-14343"],
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "PyYAML"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.4"}]}
                ],
            }
        ],
    },
    "jinja2/OPSF-TEST-0003.json": {
        "id": "OPSF-TEST-0003",
        "summary": "Jinja2 ReDoS in the urlize filter",
        "aliases": ["CVE-2020-28493"],
        "database_specific": {"severity": "LOW"},
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "jinja2"},
                "ranges": [
                    {
                        "type": "ECOSYSTEM",
                        "events": [{"introduced": "2.0"}, {"last_affected": "2.11.2"}],
                    }
                ],
            }
        ],
    },
    "urllib3/OPSF-TEST-0004.json": {
        "id": "OPSF-TEST-0004",
        "summary": "urllib3 catastrophic backtracking in URL authority parsing",
        "database_specific": {"severity": "HIGH"},
        "affected": [
            {"package": {"ecosystem": "PyPI", "name": "urllib3"}, "versions": ["1.26.3", "1.26.4"]}
        ],
    },
    "django/OPSF-TEST-0005.yaml": {
        "id": "OPSF-TEST-0005",
        "summary": "Django potential bypass of validation when uploading multiple files",
        "database_specific": {"severity": "CRITICAL"},
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "Django"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "3.2"}, {"fixed": "3.2.19"}]},
                    {"type": "ECOSYSTEM", "events": [{"introduced": "4.0"}, {"fixed": "4.1.9"}]},
                ],
            }
        ],
    },
    "flask/OPSF-TEST-0006.json": {
        "id": "OPSF-TEST-0006",
        "summary": "withdrawn: not a vulnerability",
        "withdrawn": "2024-01-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "flask"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
            }
        ],
    },
    "npm/OPSF-TEST-0007.json": {
        "id": "OPSF-TEST-0007",
        "summary": "an npm package that happens to share a name",
        "affected": [
            {
                "package": {"ecosystem": "npm", "name": "requests"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}],
            }
        ],
    },
}

REQUIREMENTS = """\
# app requirements
requests==2.19.1
PyYAML==5.3.1 \\
    --hash=sha256:b8eac752c5e14d3eca0e6dd9199cd627518cb5ec06add0de9d32baeee6fe645d
jinja2==2.11.3
urllib3==1.26.4  # pinned by ops
django==4.0.5 ; python_version >= "3.8"
flask==0.12
numpy>=1.0
-e .
"""

POETRY_LOCK = """\
[[package]]
name = "requests"
version = "2.31.0"
description = "HTTP"

[[package]]
name = "django"
version = "3.2.18"

[[package]]
name = "internal-lib"
version = "1.0.0"

[package.source]
type = "git"
url = "https://git.example.org/internal-lib.git"
reference = "main"
"""

UV_LOCK = """\
version = 1

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }

[[package]]
name = "jinja2"
version = "2.10"
source = { registry = "https://pypi.org/simple" }
"""

PIPFILE_LOCK = json.dumps(
    {
        "_meta": {"hash": {"sha256": "0" * 64}},
        "default": {"urllib3": {"version": "==1.26.5"}, "pyyaml": {"version": "==5.1"}},
        "develop": {},
    },
    indent=4,
)

#: (file, package, version, advisory id) every scan of the lock files must report
EXPECTED = {
    ("requirements.txt", "requests", "OPSF-TEST-0001", 2),
    ("requirements.txt", "PyYAML", "OPSF-TEST-0002", 3),
    ("requirements.txt", "urllib3", "OPSF-TEST-0004", 6),
    ("requirements.txt", "django", "OPSF-TEST-0005", 7),
    ("poetry.lock", "django", "OPSF-TEST-0005", 7),
    ("uv.lock", "jinja2", "OPSF-TEST-0003", 9),
    ("Pipfile.lock", "pyyaml", "OPSF-TEST-0002", 11),
}


def write_db_dir(root: Path) -> Path:
    for name, record in RECORDS.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".json"):
            path.write_text(json.dumps(record, indent=2))
        else:
            path.write_text(yaml.safe_dump(record, sort_keys=False))
    return root


def write_db_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, record in RECORDS.items():
            archive.writestr(name.rsplit("/", 1)[-1].replace(".yaml", ".json"), json.dumps(record))
    return path


def write_db_tar(path: Path, source: Path) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        archive.add(source, arcname="advisory-database")
    return path


def write_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "requirements.txt").write_text(REQUIREMENTS)
    (root / "poetry.lock").write_text(POETRY_LOCK)
    (root / "uv.lock").write_text(UV_LOCK)
    (root / "Pipfile.lock").write_text(PIPFILE_LOCK)
    return root


def write_site_packages(root: Path, packages: dict[str, str]) -> Path:
    for name, version in packages.items():
        meta = root / f"{name}-{version}.dist-info" / "METADATA"
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nlong text\n")
    return root
