"""From inventory variables to HostSpec: Ansible names, opsforge names, precedence, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opsforge.errors import InventoryError
from opsforge.inventory import load_inventory
from opsforge.types import Become, Secret

from .conftest import write_files


def spec_of(tmp_path: Path, host_line: str, *, extra: dict[str, str] | None = None) -> Any:
    write_files(tmp_path, {"hosts.ini": f"[web]\n{host_line}\n", **(extra or {})})
    inventory = load_inventory(["hosts.ini"], cwd=tmp_path)
    return next(iter(inventory.hosts.values())).spec()


@pytest.mark.parametrize(
    ("host_line", "expected"),
    [
        (
            "web1",
            {
                "name": "web1",
                "address": None,
                "port": None,
                "user": None,
                "connector": "ssh",
                "become": None,
                "password": None,
            },
        ),
        (
            "web1 ansible_host=10.0.0.1 ansible_port=2222 ansible_user=deploy",
            {
                "address": "10.0.0.1",
                "port": 2222,
                "user": "deploy",
                "target": "deploy@10.0.0.1:2222",
            },
        ),
        (
            "web1 ansible_ssh_host=10.0.0.2 ansible_ssh_port='2200' ansible_ssh_user=old",
            {"address": "10.0.0.2", "port": 2200, "user": "old"},
        ),
        ("web1:2022", {"port": 2022}),
        (
            "web1 opsforge_host=h opsforge_port=22 opsforge_user=u opsforge_key=~/.ssh/id",
            {"address": "h", "port": 22, "user": "u", "identity_files": ("~/.ssh/id",)},
        ),
        ("web1 ansible_ssh_private_key_file=/k/id_ed25519", {"identity_files": ("/k/id_ed25519",)}),
        ("web1 \"opsforge_key=['/a', '/b']\"", {"identity_files": ("/a", "/b")}),
        ("web1 ansible_password=pw", {"password": Secret("pw")}),
        ("web1 ansible_ssh_pass=pw2", {"password": Secret("pw2")}),
        ("web1 opsforge_password=pw3", {"password": Secret("pw3")}),
        ("web1 ansible_become=yes", {"become": Become()}),
        (
            "web1 ansible_become=True ansible_become_user=app ansible_become_method=su "
            "ansible_become_password=bp",
            {"become": Become("app", "su", Secret("bp"))},
        ),
        (
            "web1 ansible_become=true ansible_become_pass=bp2",
            {"become": Become(password=Secret("bp2"))},
        ),
        (
            "web1 opsforge_become=1 opsforge_become_user=svc opsforge_become_password=x",
            {"become": Become("svc", password=Secret("x"))},
        ),
        ("web1 ansible_become=no ansible_become_user=app", {"become": None}),
        ("web1 ansible_connection=local", {"connector": "local"}),
        ("web1 ansible_connection=paramiko", {"connector": "ssh"}),
        ("web1 ansible_connection=smart", {"connector": "ssh"}),
        ("web1 ansible_connection=ssh", {"connector": "ssh"}),
        ("web1 ansible_connection=docker", {"connector": "docker"}),
        ("web1 opsforge_connector=local", {"connector": "local"}),
        ("web1 opsforge_proxy_jump=bastion", {"proxy_jump": "bastion"}),
        (
            'web1 "ansible_ssh_common_args=-o ProxyJump=jump@bastion:22"',
            {"proxy_jump": "jump@bastion:22"},
        ),
        ('web1 "ansible_ssh_common_args=-J b1 -o StrictHostKeyChecking=no"', {"proxy_jump": "b1"}),
        ("web1 \"ansible_ssh_common_args=-o 'ProxyJump b2'\"", {"proxy_jump": "b2"}),
        ('web1 "ansible_ssh_common_args=-o ProxyCommand=none"', {"proxy_jump": None}),
        ("web1 opsforge_known_hosts=/kh", {"known_hosts": "/kh"}),
        (
            'web1 "ansible_ssh_common_args=-o UserKnownHostsFile=/dev/null"',
            {"known_hosts": "/dev/null"},
        ),
        (
            "web1 ssh_hostname=h ssh_port=2 ssh_user=u ssh_password=p _sudo=True",
            {"address": "h", "port": 2, "user": "u", "password": Secret("p"), "become": Become()},
        ),
        # same layer: the opsforge name wins
        ("web1 ansible_user=a opsforge_user=b", {"user": "b"}),
        ("web1 opsforge_user=b ansible_user=a", {"user": "b"}),
    ],
)
def test_spec_mapping(tmp_path: Path, host_line: str, expected: dict[str, Any]) -> None:
    spec = spec_of(tmp_path, host_line)
    for field, value in expected.items():
        assert getattr(spec, field) == value, field


def test_higher_precedence_beats_the_opsforge_name(tmp_path: Path) -> None:
    files = {"group_vars/web.yml": "opsforge_user: from-group\nansible_port: 22\n"}
    spec = spec_of(tmp_path, "web1 ansible_user=from-host opsforge_port=2200", extra=files)
    assert (spec.user, spec.port) == ("from-host", 2200)


def test_spec_carries_vars_and_secrets_stay_secret(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, "web1 ansible_password=hunter2 role=front")
    assert spec.vars["role"] == "front"
    assert isinstance(spec.vars["ansible_password"], Secret)
    assert "hunter2" not in repr(spec)


@pytest.mark.parametrize(
    ("files", "error"),
    [
        (
            {"hosts.ini": "[web]\nweb1 ansible_port=ssh\n"},
            "web1: hosts.ini:2: ansible_port: port must be a number from 1 to 65535, got 'ssh'",
        ),
        (
            {"hosts.ini": "[web]\nweb1\n", "group_vars/web.yml": "x: 1\nansible_port: 70000\n"},
            "web1: group_vars/web.yml:2: ansible_port: port must be a number from 1 to 65535",
        ),
        (
            {"inv.yml": "web:\n  hosts:\n    web1:\n      opsforge_port: [22]\n"},
            "web1: inv.yml:4: opsforge_port: port must be a number",
        ),
        (
            {"hosts.ini": "[web]\nweb1 ansible_become=maybe\n"},
            "web1: hosts.ini:2: ansible_become: expected a boolean",
        ),
        (
            {"hosts.ini": "[web]\nweb1 \"ansible_user=['a']\"\n"},
            "web1: hosts.ini:2: ansible_user: expected a string, got list",
        ),
        (
            {"hosts.ini": "[web]\nweb1 ansible_ssh_private_key_file=3\n"},
            "web1: hosts.ini:2: ansible_ssh_private_key_file: expected a key file path",
        ),
    ],
)
def test_spec_errors(tmp_path: Path, files: dict[str, str], error: str) -> None:
    write_files(tmp_path, files)
    source = next(name for name in files if "/" not in name)
    host = load_inventory([source], cwd=tmp_path).hosts["web1"]
    with pytest.raises(InventoryError) as caught:
        host.spec()
    assert str(caught.value).startswith(error), str(caught.value)


def test_local_and_host_list_specs(tmp_path: Path) -> None:
    inventory = load_inventory(["@local,ops@db1:2200,[::1]:2222"], cwd=tmp_path)
    local = inventory.hosts["@local"].spec()
    assert (local.connector, local.name) == ("local", "@local")
    db = inventory.hosts["db1"].spec()
    assert (db.user, db.port, db.connector) == ("ops", 2200, "ssh")
    assert inventory.hosts["::1"].spec().port == 2222
