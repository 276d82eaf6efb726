"""Fixtures shared by the security tests (scan, audit, harden)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="session")
def validate_sarif() -> Callable[[Any], None]:
    """Validate a SARIF log (dict or JSON text) against the shipped OASIS 2.1.0 schema."""
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema)

    def validate(log: Any) -> None:
        data = json.loads(log) if isinstance(log, str) else log
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        assert not errors, "\n".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10]
        )

    return validate
