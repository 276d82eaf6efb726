"""Inventory files as specifications: cases/valid.yml and cases/malformed.yml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from opsforge.errors import InventoryError
from opsforge.inventory import load_inventory

from .conftest import write_files

CASES = Path(__file__).parent / "cases"


def _cases(name: str) -> list[Any]:
    data = yaml.safe_load((CASES / name).read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["id"]) for case in data]


@pytest.mark.parametrize("case", _cases("valid.yml"))
def test_valid_inventory(case: dict[str, Any], tmp_path: Path) -> None:
    write_files(tmp_path, case["files"])
    inventory = load_inventory(case["sources"], cwd=tmp_path)

    if "hosts" in case:
        assert list(inventory.hosts) == case["hosts"]
    for group, hosts in case.get("groups", {}).items():
        assert list(inventory.groups[group].hosts) == hosts, group
    for group, children in case.get("children", {}).items():
        assert sorted(inventory.groups[group].children) == sorted(children), group
        for child in children:
            assert group in inventory.groups[child].parents
    for host, expected in case.get("vars", {}).items():
        actual = inventory.hosts[host].vars
        assert {key: actual.get(key) for key in expected} == expected, host
    for host, origins in case.get("origins", {}).items():
        for var, text in origins.items():
            assert str(inventory.hosts[host].origin(var)) == text, (host, var)
    for host, names in case.get("absent", {}).items():
        for var in names:
            assert var not in inventory.hosts[host].vars
    for pattern, names in case.get("select", {}).items():
        assert [host.name for host in inventory.select(pattern)] == names, pattern


@pytest.mark.parametrize("case", _cases("malformed.yml"))
def test_malformed_inventory(case: dict[str, Any], tmp_path: Path) -> None:
    write_files(tmp_path, case["files"])
    for name, text in case.get("binary", {}).items():
        (tmp_path / name).write_bytes(text.encode("latin-1"))

    with pytest.raises(InventoryError) as caught:
        load_inventory(case["sources"], cwd=tmp_path)

    message = str(caught.value)
    assert message.startswith(case["error"]), message
    assert case.get("contains", "") in message
