"""The variable layers a task sees on a host, in Ansible's precedence order.

Highest first: extra vars (-e), loop variables, include parameters, role
parameters, magic variables, set_fact/registered results, include_vars, task
and block vars, the task's role vars, every role's vars, vars_files, play vars,
gathered facts, inventory host/group vars, the task's role defaults, every
role's defaults.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from opsforge.deploy.playbook.args import as_str
from opsforge.deploy.playbook.model import Task
from opsforge.deploy.playbook.state import HostState, PlayRun, facts_layer
from opsforge.deploy.playbook.tasks import error_at
from opsforge.deploy.playbook.variables import VarSpace
from opsforge.deploy.playbook.walker import Cursor, frame_vars, rescued
from opsforge.deploy.playbook.yaml_lines import load_file

__all__ = ["SpaceBuilder"]

ANSIBLE_VERSION = {"full": "2.17.0", "major": 2, "minor": 17, "revision": 0, "string": "2.17.0"}


class SpaceBuilder:
    def __init__(self, play_run: PlayRun, state: HostState) -> None:
        self.pr = play_run
        self.state = state
        self.vars_files: dict[str, Any] = {}
        self.role_vars, self.role_defaults = play_run.role_layers()
        self._magic: dict[str, Any] | None = None
        self.wanted = True  # gathered facts wanted (gather_facts, setup)

    def magic(self) -> dict[str, Any]:
        if self._magic is None:
            options = self.pr.options
            self._magic = {
                "inventory_hostname": self.state.name,
                "inventory_hostname_short": self.state.name.split(".")[0],
                "group_names": sorted(g for g in self.state.groups if g != "all"),
                "groups": self.pr.groups,
                "hostvars": self.pr.hostvars(),
                "play_hosts": list(self.pr.batch or self.pr.hosts),
                "ansible_play_hosts": list(self.pr.batch or self.pr.hosts),
                "ansible_play_hosts_all": list(self.pr.hosts),
                "ansible_play_batch": list(self.pr.batch or self.pr.hosts),
                "ansible_play_name": self.pr.play.name,
                "playbook_dir": self.pr.playbook_dir,
                "ansible_check_mode": options.check,
                "ansible_diff_mode": options.diff,
                "ansible_run_tags": sorted(options.tags) or ["all"],
                "ansible_skip_tags": sorted(options.skip_tags),
                "ansible_version": ANSIBLE_VERSION,
                "ansible_forks": options.forks,
            }
        return self._magic

    def play_space(self) -> VarSpace:
        """Variables at play level (no task): for gather_facts, become, hosts."""
        layers: list[Mapping[str, Any]] = [
            self.pr.options.extra_vars,
            self.magic(),
            self.state.facts,
            self.vars_files,
            self.pr.play.vars,
            self.state.inventory_vars,
        ]
        return VarSpace(self.pr.engine, layers, self.pr.play.origin)

    def space(self, task: Task, cursor: Cursor) -> VarSpace:
        role = task.role
        magic = self.magic()
        if role is not None or rescued(cursor) is not None:
            magic = dict(magic)
            if role is not None:
                magic["role_name"] = role.name
                magic["role_path"] = role.path
            failure = rescued(cursor)
            if failure is not None:
                magic["ansible_failed_task"] = {"name": failure.task.display_name,
                                                "action": failure.task.module}  # fmt: skip
                magic["ansible_failed_result"] = failure.result
        layers: list[Mapping[str, Any]] = [self.pr.options.extra_vars]
        layers.extend(frame_vars(cursor))
        if role is not None and role.params:
            layers.append(role.params)
        layers += [magic, self.state.facts, self.state.include_vars]
        layers.extend(reversed(task.vars))
        if role is not None:
            layers.append(role.vars)
        layers += [
            self.role_vars,
            self.vars_files,
            self.pr.play.vars,
            facts_layer(self.state.cache, wanted=self.wanted),
            self.state.inventory_vars,
        ]
        if role is not None:
            layers.append(role.defaults)
        layers.append(self.role_defaults)
        return VarSpace(self.pr.engine, layers, task.origin)

    def search_dirs(self, task: Task) -> list[str]:
        """Where the task's controller files are found: its role, its file's directory,
        the playbook's directory."""
        dirs = []
        if task.role is not None:
            dirs.append(task.role.path)
        elif task.base_dir and task.base_dir != self.pr.playbook_dir:
            dirs.append(task.base_dir)
        dirs.append(self.pr.playbook_dir)
        return dirs

    def load_vars_files(self) -> None:
        """The play's vars_files, named with this host's variables (first found of a list)."""
        space = self.play_space()
        for entry, origin in self.pr.play.vars_files:
            candidates = entry if isinstance(entry, list) else [entry]
            tried = []
            for candidate in candidates:
                name = os.path.expanduser(as_str(space.render(candidate, origin), "vars_files"))
                path = name if os.path.isabs(name) else os.path.join(self.pr.playbook_dir, name)
                tried.append(path)
                if os.path.isfile(path):
                    data = load_file(path, self.pr.options.secrets)
                    if data is not None and not isinstance(data, dict):
                        raise error_at(f"vars file {name} must hold a mapping", origin)
                    self.vars_files.update(data or {})
                    break
            else:
                raise error_at(f"vars file not found (tried {', '.join(tried)})", origin)
