"""GitLab's predefined ``CI_*`` variables, from git and the run (no GitLab server)."""

from __future__ import annotations

import os
import re
import time
import zlib
from pathlib import Path

from opsforge.pipelines.gitinfo import GitInfo

__all__ = ["job_variables", "pipeline_variables", "slug"]

_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """GitLab's ``*_SLUG``: lower-case, non-alphanumerics → ``-``, at most 63 characters."""
    return _SLUG.sub("-", text.lower())[:63].strip("-")


def pipeline_variables(
    root: Path, info: GitInfo, *, branch: str, source: str, config: Path
) -> dict[str, str]:
    """The variables every job of the pipeline sees."""
    ref = info.tag if info.tag and not branch else branch or info.tag
    title = info.message.splitlines()[0] if info.message else ""
    pipeline_id = str(int(time.time() * 1000) % 10**9)
    values = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_SERVER": "yes",
        "CI_SERVER_NAME": "opsforge",
        "CI_SERVER_HOST": "localhost",
        "CI_SERVER_URL": "http://localhost",
        "CI_PROJECT_DIR": "$OPSFORGE_WORKDIR",
        "CI_BUILDS_DIR": "$OPSFORGE_WORKDIR",
        "CI_PROJECT_NAME": root.name,
        "CI_PROJECT_PATH": f"local/{root.name}",
        "CI_PROJECT_PATH_SLUG": slug(f"local/{root.name}"),
        "CI_PROJECT_NAMESPACE": "local",
        "CI_PROJECT_URL": info.remote_url,
        "CI_REPOSITORY_URL": info.remote_url,
        "CI_CONFIG_PATH": config.name,
        "CI_COMMIT_SHA": info.sha or "0" * 40,
        "CI_COMMIT_SHORT_SHA": (info.sha or "0" * 40)[:8],
        "CI_COMMIT_BEFORE_SHA": info.before_sha or "0" * 40,
        "CI_COMMIT_REF_NAME": ref,
        "CI_COMMIT_REF_SLUG": slug(ref),
        "CI_COMMIT_MESSAGE": info.message,
        "CI_COMMIT_TITLE": title,
        "CI_COMMIT_DESCRIPTION": info.message[len(title) :].strip(),
        "CI_COMMIT_AUTHOR": info.author,
        "CI_COMMIT_TIMESTAMP": info.timestamp,
        "CI_DEFAULT_BRANCH": info.default_branch,
        "CI_PIPELINE_SOURCE": source,
        "CI_PIPELINE_ID": pipeline_id,
        "CI_PIPELINE_IID": pipeline_id,
        "CI_PIPELINE_URL": f"http://localhost/pipelines/{pipeline_id}",
        "CI_RUNNER_ID": "1",
        "CI_RUNNER_DESCRIPTION": "opsforge local",
        "CI_RUNNER_TAGS": "",
        "GITLAB_USER_LOGIN": os.environ.get("USER", "local"),
    }
    if info.tag and not branch:
        values["CI_COMMIT_TAG"] = info.tag
    elif ref:
        values["CI_COMMIT_BRANCH"] = ref
    return values


def job_variables(name: str, stage: str, node: tuple[int, int] | None) -> dict[str, str]:
    """The variables of one job (one matrix cell)."""
    values = {
        "CI_JOB_NAME": name,
        "CI_JOB_NAME_SLUG": slug(name),
        "CI_JOB_STAGE": stage,
        "CI_JOB_ID": str(zlib.crc32(name.encode()) % 10**6),
        "CI_JOB_URL": "http://localhost/jobs/local",
    }
    if node is not None:
        values["CI_NODE_INDEX"], values["CI_NODE_TOTAL"] = str(node[0]), str(node[1])
    return values
