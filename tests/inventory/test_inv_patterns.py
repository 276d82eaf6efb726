"""Host patterns: Ansible's syntax against one small inventory."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsforge.errors import InventoryError
from opsforge.inventory import Inventory, load_inventory

from .conftest import write_files

INVENTORY = """\
all:
  hosts:
    lonely:
  children:
    prod:
      children:
        web:
          hosts: {web01: , web02: , web03: }
        db:
          hosts: {db1: , db2: }
    staging:
      hosts: {web03: , db2: , stg.example.com: }
    empty:
"""
ALL = ["lonely", "web01", "web02", "web03", "db1", "db2", "stg.example.com"]


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Inventory:
    root = tmp_path_factory.mktemp("patterns")
    write_files(root, {"inventory.yml": INVENTORY, "limit.txt": "# retry file\nweb01\n\ndb2\n"})
    return load_inventory(["inventory.yml"], cwd=root)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("all", ALL),
        ("*", ALL),
        ("web", ["web01", "web02", "web03"]),
        ("prod", ["web01", "web02", "web03", "db1", "db2"]),
        ("ungrouped", ["lonely"]),
        ("web01", ["web01"]),
        ("db:web", ["web01", "web02", "web03", "db1", "db2"]),
        ("db,web", ["web01", "web02", "web03", "db1", "db2"]),
        ("db web", ["web01", "web02", "web03", "db1", "db2"]),
        ("staging:web01", ["web01", "web03", "db2", "stg.example.com"]),
        ("web:&staging", ["web03"]),
        ("prod:!staging", ["web01", "web02", "db1"]),
        ("!staging", ["lonely", "web01", "web02", "db1"]),
        ("&staging", ["web03", "db2", "stg.example.com"]),
        ("!staging:prod:&web", ["web01", "web02"]),
        ("web:&db", []),
        ("empty", []),
        ("empty:lonely", ["lonely"]),
        ("web*", ["web01", "web02", "web03"]),
        ("*.example.com", ["stg.example.com"]),
        ("db[1-2]", ["db1", "db2"]),
        ("web0[!1]", ["web02", "web03"]),
        ("w?b01", ["web01"]),
        ("~web0[12]", ["web01", "web02"]),
        ("~(web|db)\\d", ["web01", "web02", "web03", "db1", "db2"]),
        ("~.*eb0", ["web01", "web02", "web03"]),
        ("web[0]", ["web01"]),
        ("web[-1]", ["web03"]),
        ("web[1:2]", ["web02", "web03"]),
        ("web[1:]", ["web02", "web03"]),
        ("web[:1]", ["web01", "web02"]),
        ("prod[-2]", ["db1"]),
        ("web[5]", []),
        ("web[0]:db[0]", ["web01", "db1"]),
        ("web*[0]", ["web01"]),
    ],
)
def test_select(inventory: Inventory, pattern: str, expected: list[str]) -> None:
    assert [host.name for host in inventory.select(pattern)] == expected


@pytest.mark.parametrize(
    ("pattern", "limit", "expected"),
    [
        ("all", "web", ["web01", "web02", "web03"]),
        ("prod", "staging", ["web03", "db2"]),
        ("prod", "!web", ["db1", "db2"]),
        ("all", "@limit.txt", ["web01", "db2"]),
        ("web", "@limit.txt:db1", ["web01"]),
        ("web", "db", []),
    ],
)
def test_limit(inventory: Inventory, pattern: str, limit: str, expected: list[str]) -> None:
    assert [host.name for host in inventory.select(pattern, limit)] == expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("wbe", "no host or group matches 'wbe'; did you mean: web, web0"),
        ("we", "no host or group matches 'we'; did you mean: web, web01, web02, web03, we*?"),
        ("prod:!stagin", "no host or group matches 'stagin'; did you mean: staging"),
        ("web:&nothing_like_it", "no host or group matches 'nothing_like_it'"),
        ("zzz*", "no host or group matches 'zzz*'"),
        ("~^nomatch$", "no host or group matches '~^nomatch$'"),
        ("~(web", "invalid host pattern '~(web'"),
        ("web[0", "unbalanced '[' in host pattern 'web[0'"),
        ("web]", "unbalanced ']' in host pattern 'web]'"),
        ("", "empty host pattern ''"),
        (" , : ", "empty host pattern"),
        ("web:!", "empty pattern after '!'"),
        ("&", "empty pattern after '&'"),
    ],
)
def test_bad_patterns(inventory: Inventory, pattern: str, message: str) -> None:
    with pytest.raises(InventoryError) as caught:
        inventory.select(pattern)
    assert str(caught.value).startswith(message), str(caught.value)


def test_missing_limit_file(inventory: Inventory) -> None:
    with pytest.raises(InventoryError, match="cannot read limit file"):
        inventory.select("all", "@nope.txt")


def test_at_local_is_a_host_in_limits(tmp_path: Path) -> None:
    inventory = load_inventory(["@local", "web1,"], cwd=tmp_path)
    assert [host.name for host in inventory.select("all", "@local")] == ["@local"]
    assert [host.name for host in inventory.select("@local")] == ["@local"]


def test_ipv6_host_names_are_one_atom(tmp_path: Path) -> None:
    inventory = load_inventory(["[::1]:22,fe80::2,web1,"], cwd=tmp_path)
    assert [host.name for host in inventory.select("::1")] == ["::1"]
    assert [host.name for host in inventory.select("all,!fe80::2")] == ["::1", "web1"]


def test_group_and_host_with_same_name_prefers_group(tmp_path: Path) -> None:
    write_files(tmp_path, {"hosts.ini": "[web]\nweb\nweb2\n"})
    inventory = load_inventory(["hosts.ini"], cwd=tmp_path)
    assert [host.name for host in inventory.select("web")] == ["web", "web2"]
    assert any("both a host and a group" in warning for warning in inventory.warnings)
