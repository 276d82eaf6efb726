"""What a local run of a workflow looks like to it: the ``github`` and ``runner``
contexts from this checkout and host, the ``GITHUB_*`` variables, and ``runs-on``
matched against this host's labels.

This host has the labels ``self-hosted``, its OS (``linux``), its architecture (``x64``,
``arm64``), ``ubuntu-*`` on Linux and whatever ``OPSFORGE_RUNNER_LABELS`` adds
(comma-separated). A job whose ``runs-on`` asks for a label this host lacks is left out,
with the reason.
"""

from __future__ import annotations

import getpass
import os
import platform
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from opsforge.pipelines.github.expr_values import to_string
from opsforge.pipelines.gitinfo import git_info, run_git

__all__ = ["GitState", "HostRunner", "git_state", "runs_on_mismatch"]


@dataclass(frozen=True, slots=True)
class GitState:
    """The checkout a workflow runs against: ``ref`` is ``refs/heads/...``/``refs/tags/...``."""

    sha: str
    ref: str
    repository: str

    @property
    def ref_name(self) -> str:
        return re.sub(r"^refs/(heads|tags)/", "", self.ref)

    @property
    def ref_type(self) -> str:
        return "tag" if self.ref.startswith("refs/tags/") else "branch"


def git_state(root: Path, ref: str | None) -> GitState:
    """Read sha, ref (``ref`` given wins: a branch, ``refs/...`` or a tag) and repository."""
    info = git_info(root)
    sha = info.sha or "0" * 40
    if ref:
        full = ref if ref.startswith("refs/") else f"refs/heads/{ref}"
        if not ref.startswith("refs/") and run_git(
            root, "rev-parse", "-q", "--verify", f"refs/tags/{ref}"
        ):
            full = f"refs/tags/{ref}"
    else:
        full = f"refs/heads/{info.branch}" if info.branch else "refs/heads/main"
    match = re.search(r"[:/]([^/:]+/[^/]+?)(?:\.git)?/?$", info.remote_url)
    repository = match.group(1) if match else f"local/{root.resolve().name}"
    return GitState(sha, full, repository)


class HostRunner:
    """This machine as a runner: labels for ``runs-on`` and the ``runner`` context."""

    def __init__(self) -> None:
        system = platform.system()
        self.os = {"Linux": "Linux", "Darwin": "macOS", "Windows": "Windows"}.get(system, system)
        machine = platform.machine().lower()
        self.arch = {
            "x86_64": "X64",
            "amd64": "X64",
            "aarch64": "ARM64",
            "arm64": "ARM64",
            "armv7l": "ARM",
        }.get(machine, machine.upper())
        extra = os.environ.get("OPSFORGE_RUNNER_LABELS", "")
        self.labels = {
            "self-hosted",
            self.os.lower(),
            self.arch.lower(),
            *(x.strip().lower() for x in extra.split(",") if x.strip()),
        }
        self.patterns = {
            "Linux": ("ubuntu-*",),
            "macOS": ("macos-*",),
            "Windows": ("windows-*",),
        }.get(self.os, ())

    def has_label(self, label: str) -> bool:
        low = label.lower()
        return low in self.labels or any(fnmatchcase(low, p) for p in self.patterns)

    def describe(self) -> str:
        return ", ".join(sorted(self.labels) + list(self.patterns))

    def context(self) -> dict[str, Any]:
        temp = tempfile.gettempdir()
        return {
            "os": self.os,
            "arch": self.arch,
            "name": platform.node() or "local",
            "temp": temp,
            "tool_cache": os.path.join(temp, "opsforge-tool-cache"),
            "environment": "self-hosted",
            "debug": "",
        }


def runs_on_mismatch(value: Any, host: HostRunner) -> str | None:
    """Why ``runs-on`` does not fit this host, or None when it does."""
    if isinstance(value, Mapping):
        labels = value.get("labels", [])
        labels = labels if isinstance(labels, list) else [labels]
        if not labels and value.get("group"):
            return f"runs-on group {to_string(value['group'])!r} is a hosted runner group"
    else:
        labels = value if isinstance(value, list) else [value]
    missing = [to_string(label) for label in labels if not host.has_label(to_string(label))]
    if not missing:
        return None
    return (
        f"runs-on {', '.join(missing)} does not match this host "
        f"(labels: {host.describe()}; add more with OPSFORGE_RUNNER_LABELS)"
    )


def base_env(git: GitState, host: HostRunner, workflow: str, event: str) -> dict[str, str]:
    """The ``GITHUB_*``/``RUNNER_*`` variables every job gets (the workspace is per step)."""
    return {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_SHA": git.sha,
        "GITHUB_REF": git.ref,
        "GITHUB_REF_NAME": git.ref_name,
        "GITHUB_REF_TYPE": git.ref_type,
        "GITHUB_REPOSITORY": git.repository,
        "GITHUB_REPOSITORY_OWNER": git.repository.split("/")[0],
        "GITHUB_EVENT_NAME": event,
        "GITHUB_WORKFLOW": workflow,
        "GITHUB_ACTOR": getpass.getuser(),
        "GITHUB_RUN_ID": "1",
        "GITHUB_RUN_NUMBER": "1",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_SERVER_URL": "https://github.com",
        "RUNNER_OS": host.os,
        "RUNNER_ARCH": host.arch,
        "RUNNER_TEMP": host.context()["temp"],
    }


def github_context(
    git: GitState, workflow: str, event: str, inputs: Mapping[str, Any]
) -> dict[str, Any]:
    """The static part of the ``github`` context (``job``/``workspace`` come per job)."""
    owner = git.repository.split("/")[0]
    payload: dict[str, Any] = {
        "repository": {
            "full_name": git.repository,
            "name": git.repository.split("/")[-1],
            "owner": {"login": owner},
        }
    }
    if event == "push":
        payload.update(ref=git.ref, after=git.sha)
    if event in ("workflow_dispatch", "workflow_call"):
        # github.event.inputs holds strings; the inputs context keeps the declared types
        payload["inputs"] = {k: to_string(v) for k, v in inputs.items()}
    return {
        "event_name": event,
        "event": payload,
        "sha": git.sha,
        "ref": git.ref,
        "ref_name": git.ref_name,
        "ref_type": git.ref_type,
        "repository": git.repository,
        "repository_owner": owner,
        "actor": getpass.getuser(),
        "triggering_actor": getpass.getuser(),
        "workflow": workflow,
        "run_id": "1",
        "run_number": "1",
        "run_attempt": "1",
        "server_url": "https://github.com",
        "api_url": "https://api.github.com",
        "graphql_url": "https://api.github.com/graphql",
        "head_ref": "",
        "base_ref": "",
        "action": "",
        "token": "",
        "retention_days": "90",
    }
