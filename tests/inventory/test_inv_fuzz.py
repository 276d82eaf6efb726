"""Whatever the input, loading an inventory fails only with an InventoryError."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from opsforge.errors import InventoryError
from opsforge.inventory import load_inventory

SETTINGS = settings(max_examples=200, deadline=None)

INI_PIECES = st.sampled_from(
    ["[web]", "[web:vars]", "[web:children]", "[db", "]", "\n", " ", "web1", "db[1:3]",
     "x[01:5]", "[a:c]", ":22", "=", "k=v", "'", '"', "#", ";", "[::1]", "ansible_port=x",
     "[all:vars]", "web", "\t", "{", "[", "1:0]"]
)  # fmt: skip
YAML_PIECES = st.sampled_from(
    ["all:", "\n", "  ", "hosts:", "vars:", "children:", "web:", "web1:", "- a", "[", "]",
     "{", "}", ":", "x: 1", "null", "&a", "*a", "<<: *a", "!vault", "'", "web[1:2]:", "? ", ","]
)  # fmt: skip


def load_text(name: str, text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, name).write_text(text, encoding="utf-8")
        with contextlib.suppress(InventoryError):
            load_inventory([name], cwd=Path(folder))


@SETTINGS
@given(st.one_of(st.text(), st.lists(INI_PIECES).map("".join)))
def test_ini_text(text: str) -> None:
    load_text("hosts.ini", text)


@SETTINGS
@given(st.one_of(st.text(), st.lists(YAML_PIECES).map("".join)))
def test_yaml_text(text: str) -> None:
    load_text("inventory.yml", text)


@SETTINGS
@given(st.lists(st.sampled_from(["web1", "@", "@local", ":22", "[::1]", "[1:3]", "u@", ","]))
       .map("".join).filter(lambda text: "," in text))  # fmt: skip
def test_host_lists(text: str) -> None:
    with contextlib.suppress(InventoryError):
        load_inventory([text], cwd=Path("/nonexistent-opsforge-dir"))
