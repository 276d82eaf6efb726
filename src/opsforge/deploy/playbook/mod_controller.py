"""Modules the executor runs itself, on the controller: their parameters only.

debug, set_fact, assert, fail, meta, include_vars, includes and imports of tasks
and roles, setup/gather_facts. What each does is in :mod:`.controller`.
"""

from __future__ import annotations

from opsforge.deploy.playbook.modules import ModuleSpec, register_module

__all__ = ["META_ACTIONS"]

#: the ``meta`` actions opsforge does
META_ACTIONS = frozenset({"flush_handlers", "end_play", "end_host", "noop", "clear_host_errors",
                          "refresh_inventory", "end_batch", "reset_connection"})  # fmt: skip

for _spec in (
    ModuleSpec("debug", frozenset({"msg", "var", "verbosity"}), controller=True),
    ModuleSpec("set_fact", frozenset(), controller=True, any_params=True),
    ModuleSpec("assert", frozenset({"that", "fail_msg", "success_msg", "quiet"}),
               aliases={"msg": "fail_msg"}, required=("that",), controller=True),
    ModuleSpec("fail", frozenset({"msg"}), controller=True),
    ModuleSpec("meta", frozenset(), free_form=True, controller=True),
    ModuleSpec("include_vars", frozenset({"file", "name", "hash_behaviour", "dir", "depth",
                                          "files_matching", "ignore_files", "extensions",
                                          "ignore_unknown_extensions", "_raw_params"}),
               controller=True),  # k=v words parsed, a bare word is the file (as Ansible)
    ModuleSpec("include_tasks", frozenset({"file", "apply"}), free_form=True, controller=True),
    ModuleSpec("include", frozenset({"file"}), free_form=True, controller=True),
    ModuleSpec("import_tasks", frozenset({"file"}), free_form=True, controller=True),
    ModuleSpec("include_role", frozenset({"name", "tasks_from", "vars_from", "defaults_from",
                                          "handlers_from", "public", "apply",
                                          "allow_duplicates", "rolespec_validate"}),
               controller=True),
    ModuleSpec("import_role", frozenset({"name", "tasks_from", "vars_from", "defaults_from",
                                         "handlers_from", "public", "allow_duplicates",
                                         "rolespec_validate"}), controller=True),
    ModuleSpec("setup", frozenset({"gather_subset", "filter", "gather_timeout", "fact_path"}),
               controller=True),
    ModuleSpec("gather_facts", frozenset({"parallel"}), controller=True),
):  # fmt: skip
    register_module(_spec)
