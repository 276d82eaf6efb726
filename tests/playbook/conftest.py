"""Run playbooks in-process against local hosts (``ansible_connection: local``)."""

from __future__ import annotations

import asyncio
import hashlib
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsforge.connectors.pool import ConnectionPool
from opsforge.deploy.events import OperationResult
from opsforge.deploy.playbook import RunOptions, prepare, run_playbook
from opsforge.engine import Event, RunSummary
from opsforge.inventory import load_inventory
from opsforge.vault import VaultSecrets


@dataclass
class PlaybookResult:
    summary: RunSummary
    outcomes: dict[str, Any]
    events: list[Event] = field(default_factory=list)

    def ops(self, host: str = "h1") -> list[OperationResult]:
        return [e for e in self.events if isinstance(e, OperationResult) and e.host == host]

    def status(self, name: str, host: str = "h1") -> str:
        found = [e.status for e in self.ops(host) if e.name == name]
        assert found, f"no task {name!r} in {[e.name for e in self.ops(host)]}"
        return found[-1]

    def output(self, name: str, host: str = "h1") -> str:
        return next(e.output for e in self.ops(host) if e.name == name)

    def trips(self, host: str = "h1") -> int:
        return int(self.outcomes[host].data["round_trips"])


def tree(root: Path) -> dict[str, tuple[str, int]]:
    """Relative path -> (content sha256 | 'dir' | 'link:<target>', mode) of everything."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        if path.is_symlink():
            what = "link:" + str(path.readlink()).replace(str(root), "<root>")
        elif path.is_dir():
            what = "dir"
        else:
            what = hashlib.sha256(path.read_bytes()).hexdigest()
        out[str(path.relative_to(root))] = (what, st.st_mode & 0o7777)
    return out


Runner = Callable[..., PlaybookResult]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (tmp_path / "target").mkdir()
    return root


@pytest.fixture
def run_pb(tmp_path: Path, project: Path) -> Runner:
    """``run_pb(playbook_yaml, files={...}, hosts=1, **options)`` -> PlaybookResult.

    ``files`` are written beside the playbook, ``inventory_files`` beside the inventory."""

    def run(
        playbook: str,
        *,
        files: dict[str, str] | None = None,
        hosts: int = 1,
        host_vars: dict[str, Any] | None = None,
        secrets: VaultSecrets | None = None,
        inventory_files: dict[str, str] | None = None,
        **options: Any,
    ) -> PlaybookResult:
        (project / "site.yml").write_text(textwrap.dedent(playbook))
        for name, text in (files or {}).items():
            path = project / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        inventory_data = {
            "all": {
                "hosts": {f"h{i}": {"ansible_connection": "local", **(host_vars or {})}
                          for i in range(1, hosts + 1)},
                "vars": {"target": str(tmp_path / "target")},
                "children": {"odd": {"hosts": {f"h{i}": None for i in range(1, hosts + 1, 2)}}},
            }
        }  # fmt: skip
        inv_path = tmp_path / "inventory.yml"
        inv_path.write_text(yaml.safe_dump(inventory_data))
        for name, text in (inventory_files or {}).items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        # as `opsforge apply` loads it: the playbook's group_vars/host_vars win
        inventory = load_inventory([str(inv_path)], vars_dirs=[project])
        specs = [h.spec() for h in inventory.select("all")]
        run_options = RunOptions(secrets=secrets or VaultSecrets(), **options)
        pb = prepare(project / "site.yml", inventory=inventory, specs=specs, options=run_options)
        events: list[Event] = []

        async def go() -> tuple[RunSummary, dict[str, Any]]:
            pool = ConnectionPool()
            try:
                return await run_playbook(pb, pool, [events.append])
            finally:
                await pool.close_all()

        summary, outcomes = asyncio.run(go())
        return PlaybookResult(summary, outcomes, events)

    return run
