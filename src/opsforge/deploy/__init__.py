"""Configuration management: declare the state hosts should be in; opsforge changes what differs.

A Python deploy is a module with a ``deploy(host)`` function that declares operations::

    from opsforge.deploy import files, server

    def deploy(host):
        files.directory(host, "/srv/app", mode="0755")
        files.template(host, "app.conf.j2", "/srv/app/app.conf", port=8080)
        server.shell(host, "systemctl reload app", changed=False)

``opsforge apply deploy.py -i inventory.yml [PATTERN] [--check] [--diff]`` runs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opsforge.deploy.context import HostContext
    from opsforge.deploy.operations import files, git, packages, server, services, system, users

__all__ = ["HostContext", "files", "git", "packages", "server", "services", "system", "users"]


def __getattr__(name: str) -> Any:
    """The operation modules load when a deploy names them: a run imports only what it uses
    (every module of dataclasses costs startup time, which a one-host run feels)."""
    if name == "HostContext":
        return importlib.import_module("opsforge.deploy.context").HostContext
    if name in __all__:
        module = importlib.import_module(f"opsforge.deploy.operations.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
