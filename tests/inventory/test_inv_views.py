"""What the CLI prints: graph, --list data, per-host variables with origins; public API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import opsforge.inventory
from opsforge.errors import InventoryError
from opsforge.inventory import Inventory, load_inventory

from .conftest import write_files

FILES = {
    "hosts.ini": """\
        solo
        [web]
        web2
        web1 ansible_password=hunter2
        [db]
        db1
        [prod:children]
        web
        db
        [canary:children]
        web
        [web:vars]
        http_port=8080
        """,
    "group_vars/all.yml": "ntp: pool.example.com\n",
}


@pytest.fixture
def inventory(tmp_path: Path) -> Inventory:
    write_files(tmp_path, FILES)
    return load_inventory(["hosts.ini"], cwd=tmp_path)


def test_public_api_is_pinned() -> None:
    assert sorted(opsforge.inventory.__all__) == [
        "Group",
        "Host",
        "Inventory",
        "VarOrigin",
        "load_inventory",
    ]


def test_graph_like_ansible_inventory(inventory: Inventory) -> None:
    assert inventory.graph() == "\n".join(
        [
            "@all:",
            "  |--@canary:",
            "  |  |--@web:",
            "  |  |  |--web1",
            "  |  |  |--web2",
            "  |--@prod:",
            "  |  |--@db:",
            "  |  |  |--db1",
            "  |  |--@web:",
            "  |  |  |--web1",
            "  |  |  |--web2",
            "  |--@ungrouped:",
            "  |  |--solo",
        ]
    )
    assert inventory.graph("db") == "@db:\n  |--db1"
    with pytest.raises(InventoryError, match="no group 'nope'"):
        inventory.graph("nope")


def test_to_dict_like_ansible_inventory_list(inventory: Inventory) -> None:
    data = inventory.to_dict()
    assert data["all"] == {
        "children": ["ungrouped", "prod", "canary"],
        "vars": {"ntp": "pool.example.com"},
    }
    assert data["web"] == {"hosts": ["web2", "web1"], "vars": {"http_port": 8080}}
    assert data["prod"] == {"children": ["web", "db"]}
    assert data["ungrouped"] == {"hosts": ["solo"]}
    assert data["_meta"]["hostvars"]["web1"] == {
        "ntp": "pool.example.com",
        "http_port": 8080,
        "ansible_password": "***",
    }
    text = json.dumps(data)
    assert "hunter2" not in text


def test_describe_host_masks_secrets_and_names_origins(inventory: Inventory) -> None:
    assert inventory.describe_host("web1") == [
        ("ansible_password", "***", "host 'web1' in hosts.ini:4"),
        ("http_port", 8080, "group 'web' in hosts.ini:13"),
        ("ntp", "pool.example.com", "group 'all' in group_vars/all.yml:1"),
    ]
    with pytest.raises(
        InventoryError, match="no host 'web3' in the inventory; did you mean: web1, web2"
    ):
        inventory.describe_host("web3")


def test_hosts_groups_and_var_sources(inventory: Inventory) -> None:
    assert list(inventory.hosts) == ["solo", "web2", "web1", "db1"]
    assert list(inventory.groups)[:2] == ["all", "ungrouped"]
    web1 = inventory.hosts["web1"]
    assert web1.groups == ("all", "canary", "prod", "web")
    assert inventory.groups["web"].parents == ("prod", "canary")
    assert inventory.groups["web"].depth == 2
    assert [h.name for h in inventory.group_hosts("prod")] == ["web2", "web1", "db1"]
    assert len(inventory) == 4
    assert [h.name for h in inventory] == list(inventory.hosts)
    assert web1.var_sources("missing") == []
    assert web1.origin("missing") is None


def test_var_sources_list_every_value_lowest_first(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "inv.yml": "all:\n  vars: {x: 0}\n  children:\n    web:\n      vars: {x: 1}\n"
            "      hosts:\n        web1: {x: 2}\n",
            "group_vars/web.yml": "x: 3\n",
            "host_vars/web1.yml": "x: 4\n",
        },
    )
    host = load_inventory(["inv.yml"], cwd=tmp_path).hosts["web1"]
    assert [(value, str(origin)) for value, origin in host.var_sources("x")] == [
        (0, "group 'all' in inv.yml:2"),
        (1, "group 'web' in inv.yml:5"),
        (3, "group 'web' in group_vars/web.yml:1"),
        (2, "host 'web1' in inv.yml:7"),
        (4, "host 'web1' in host_vars/web1.yml:1"),
    ]
    assert host.vars["x"] == 4


def test_yaml_unexpected_keys_are_warnings(tmp_path: Path) -> None:
    write_files(tmp_path, {"inv.yml": "web:\n  host:\n    web1:\n  hosts:\n    web2:\n"})
    inventory = load_inventory(["inv.yml"], cwd=tmp_path)
    assert list(inventory.hosts) == ["web2"]
    assert inventory.warnings == (
        "inv.yml:2: skipping unexpected key 'host' in group 'web' "
        "(expected one of hosts, vars, children)",
    )


def test_empty_sources_give_an_empty_inventory(tmp_path: Path) -> None:
    inventory = load_inventory([], cwd=tmp_path)
    assert list(inventory.groups) == ["all", "ungrouped"]
    assert inventory.select("all") == []
    assert inventory.graph() == "@all:\n  |--@ungrouped:"
