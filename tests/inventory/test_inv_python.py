"""Python inventories: both result shapes, and the error boundary around user code."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from opsforge.errors import InventoryError
from opsforge.inventory import load_inventory

from .conftest import write_files


def load(tmp_path: Path, source: str, **extra: str) -> object:
    write_files(tmp_path, {"inv.py": source, **extra})
    return load_inventory(["inv.py"], cwd=tmp_path)


def test_list_shape(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        """\
        def inventory():
            return [
                "web1",
                "web[2:3]:2222",
                ("db1", {"ansible_user": "postgres"}),
                {"name": "cache1", "groups": ["cache", "prod"], "role": "redis",
                 "vars": {"ansible_host": "10.0.0.9"}},
                {"name": "mon1", "groups": "prod"},
            ]
        """,
    )
    assert list(inventory.hosts) == ["web1", "web2", "web3", "db1", "cache1", "mon1"]
    assert inventory.hosts["web3"].vars == {"ansible_port": 2222}
    assert inventory.hosts["db1"].vars == {"ansible_user": "postgres"}
    assert inventory.hosts["cache1"].vars == {"role": "redis", "ansible_host": "10.0.0.9"}
    assert list(inventory.groups["prod"].hosts) == ["cache1", "mon1"]
    assert list(inventory.groups["ungrouped"].hosts) == ["web1", "web2", "web3", "db1"]
    assert str(inventory.hosts["db1"].origin("ansible_user")) == "host 'db1' in inv.py"


def test_dict_shape_like_yaml(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        """\
        import json

        def hosts():
            return {
                "all": {"vars": {"ntp": "pool"}},
                "web": {"hosts": {"web1": {"ansible_port": 2200}, "web2": None},
                        "children": {"canary": {"hosts": {"web3": None}}}},
            }
        """,
    )
    assert list(inventory.select("web")) == [inventory.hosts[n] for n in ("web1", "web2", "web3")]
    assert inventory.hosts["web1"].spec().port == 2200
    assert inventory.hosts["web3"].vars == {"ntp": "pool"}


def test_ansible_script_json_shape(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        """\
        def inventory():
            return {
                "web": ["web1", "web2"],
                "prod": {"children": ["web"], "vars": {"env": "prod"}},
                "_meta": {"hostvars": {"web1": {"ansible_host": "10.0.0.1"}}},
            }
        """,
    )
    assert inventory.hosts["web1"].vars == {"env": "prod", "ansible_host": "10.0.0.1"}
    assert inventory.groups["prod"].children == ("web",)


def test_pyinfra_style_module_lists(tmp_path: Path) -> None:
    inventory = load(
        tmp_path,
        """\
        import os

        _private = ["hidden"]
        odd = [("h1", {"ssh_hostname": "127.0.0.1", "ssh_port": 2201, "ssh_user": "root",
                       "ssh_key": "/k", "ssh_known_hosts_file": "/dev/null"})]
        even = ("h2", "h4")
        settings = {"not": "hosts"}
        """,
    )
    assert list(inventory.hosts) == ["h1", "h2", "h4"]
    assert list(inventory.groups["even"].hosts) == ["h2", "h4"]
    spec = inventory.hosts["h1"].spec()
    assert (spec.address, spec.port, spec.user) == ("127.0.0.1", 2201, "root")
    assert (spec.identity_files, spec.known_hosts) == (("/k",), "/dev/null")


def test_async_and_generator_functions(tmp_path: Path) -> None:
    inventory = load(tmp_path, "async def inventory():\n    return ['a1', 'a2']\n")
    assert list(inventory.hosts) == ["a1", "a2"]
    write_files(tmp_path, {"gen.py": "def inventory():\n    yield 'g1'\n    yield 'g2'\n"})
    assert list(load_inventory(["gen.py"], cwd=tmp_path).hosts) == ["g1", "g2"]


def test_async_inventory_inside_a_running_loop(tmp_path: Path) -> None:
    write_files(tmp_path, {"inv.py": "import asyncio\n\nasync def inventory():\n"
                           "    await asyncio.sleep(0)\n    return ['a1']\n"})  # fmt: skip

    async def main() -> list[str]:
        return list(load_inventory(["inv.py"], cwd=tmp_path).hosts)

    assert asyncio.run(main()) == ["a1"]


def test_sibling_imports_and_clean_interpreter_state(tmp_path: Path) -> None:
    path_before, modules_before = list(sys.path), set(sys.modules)
    inventory = load(
        tmp_path,
        "from inv_helper import NAMES\n\ndef inventory():\n    return NAMES\n",
        **{"inv_helper.py": "NAMES = ['x1', 'x2']\n"},
    )
    assert list(inventory.hosts) == ["x1", "x2"]
    assert sys.path == path_before
    assert not {m for m in set(sys.modules) - modules_before if m.startswith("_opsforge_inventory")}
    sys.modules.pop("inv_helper", None)


@pytest.mark.parametrize(
    ("files", "error"),
    [
        pytest.param(
            {
                "inv.py": "def helper():\n    return 1 / 0\n\n"
                "def inventory():\n    return [helper()]\n"
            },
            "inv.py:2: inventory() raised ZeroDivisionError: division by zero",
            id="raises-in-helper-same-file",
        ),
        pytest.param(
            {
                "inv.py": "import lib_fail\n\n\ndef inventory():\n    return lib_fail.fetch()\n",
                "lib_fail.py": "def fetch():\n    raise ConnectionError('api down')\n",
            },
            "inv.py:5: inventory() raised ConnectionError: api down",
            id="raises-in-other-module-points-at-caller",
        ),
        pytest.param(
            {"inv.py": "import os\nTOKEN = os.environ['NO_SUCH_VARIABLE_X']\n"},
            "inv.py:2: loading the inventory raised KeyError: 'NO_SUCH_VARIABLE_X'",
            id="raises-at-import",
        ),
        pytest.param(
            {"inv.py": "import sys\n\ndef inventory():\n    sys.exit(3)\n"},
            "inv.py:4: inventory() raised SystemExit: 3",
            id="sys-exit",
        ),
        pytest.param(
            {"inv.py": "def inventory(:\n    pass\n"},
            "inv.py:1: syntax error",
            id="syntax-error",
        ),
        pytest.param(
            {"inv.py": "\n\ndef inventory():\n    return 42\n"},
            "inv.py:3: inventory() must return a list of hosts or a dict of groups, got a number",
            id="wrong-return-type",
        ),
        pytest.param(
            {"inv.py": "def inventory():\n    return ['ok', 3]\n"},
            "inv.py:1: inventory(): host #2 must be a name, a (name, vars) pair or a dict",
            id="wrong-entry-type",
        ),
        pytest.param(
            {"inv.py": "def inventory():\n    return ['web[3:1]']\n"},
            "inv.py:1: inventory(): invalid range [3:1]",
            id="bad-range",
        ),
        pytest.param(
            {"inv.py": "def inventory():\n    return {'web': 'web1'}\n"},
            "inv.py:1: group 'web' must be a mapping with hosts, vars or children, got a string",
            id="dict-shape-group-is-string",
        ),
        pytest.param(
            {"inv.py": "import os\nPORT = 22\nNAMES = ['a', 3]\n"},
            "inv.py: a Python inventory must define a function inventory() or hosts()",
            id="no-function",
        ),
        pytest.param(
            {"inv.py": "inventory = ['a']\n"},
            "inv.py: inventory must be a function, got a list",
            id="not-callable",
        ),
    ],
)
def test_errors(tmp_path: Path, files: dict[str, str], error: str) -> None:
    write_files(tmp_path, files)
    with pytest.raises(InventoryError) as caught:
        load_inventory(["inv.py"], cwd=tmp_path)
    assert str(caught.value).startswith(error), str(caught.value)
    for name in files:
        sys.modules.pop(name.removesuffix(".py"), None)


def test_keyboard_interrupt_is_not_swallowed(tmp_path: Path) -> None:
    write_files(tmp_path, {"inv.py": "def inventory():\n    raise KeyboardInterrupt\n"})
    with pytest.raises(KeyboardInterrupt):
        load_inventory(["inv.py"], cwd=tmp_path)
