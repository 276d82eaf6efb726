"""Job caches (``cache:`` key / key:files / policy) and native up-to-date checks.

Caches live in ``<root>/.opsforge/cache/<key>/`` (one file tree per key, replaced
atomically on save). Up-to-date records live in ``<root>/.opsforge/uptodate/<job>.json``:
the fingerprint of the job's definition (scripts, variables, image) and of the
contents of every file its ``inputs`` globs match, written after a success.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from opsforge.pipelines.files import copy_tree, match_files, replace_tree
from opsforge.pipelines.model import ArtifactWhen, Cache, CachePolicy, Job
from opsforge.pipelines.variables import expand
from opsforge.pipelines.workspace import safe_name

__all__ = [
    "cache_dir_variable",
    "cache_key",
    "cache_saves",
    "fingerprint",
    "is_up_to_date",
    "record_up_to_date",
    "restore_cache",
    "save_cache",
]


#: predefined per-run variables (pipeline ids, commit) that must not defeat up-to-date checks
_VOLATILE = ("CI_", "GITLAB_", "GITHUB_", "CIRCLE_", "OPSFORGE_")


def _hash_files(workdir: Path, patterns: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for rel in match_files(workdir, patterns):
        digest.update(rel.encode() + b"\0")
        path = workdir / rel
        if path.is_file():
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def cache_key(cache: Cache, env: Mapping[str, str], workdir: Path) -> str:
    """The key as GitLab computes it: expanded ``key``, or prefix + hash of ``key_files``."""
    if cache.key_files:
        prefix = expand(cache.key_prefix, env)
        digest = _hash_files(workdir, cache.key_files)[:16]
        return f"{prefix}-{digest}" if prefix else digest
    return expand(cache.key, env) or "default"


def restore_cache(cache: Cache, key: str, cache_dir: Path, workdir: Path) -> str | None:
    """Restore into ``workdir``; the key that hit (``key`` or a fallback) or None."""
    if cache.policy is CachePolicy.PUSH:
        return None
    for candidate in (key, *cache.fallback_keys):
        source = cache_dir / safe_name(candidate)
        if source.is_dir():
            copy_tree(source, workdir)
            return candidate
    return None


def cache_dir_variable(name: str) -> str:
    """The variable naming a job's ``cache_dirs`` entry: ``OPSFORGE_CACHE_DIR_<NAME>``."""
    return f"OPSFORGE_CACHE_DIR_{name.upper().replace('-', '_')}"


def cache_saves(cache: Cache, *, success: bool) -> bool:
    """Whether the cache is saved after a job that ended so (``policy`` and ``when``)."""
    if cache.policy is CachePolicy.PULL:
        return False
    return not (
        (cache.when is ArtifactWhen.ON_SUCCESS and not success)
        or (cache.when is ArtifactWhen.ON_FAILURE and success)
    )


def save_cache(cache: Cache, key: str, cache_dir: Path, workdir: Path, *, success: bool) -> int:
    """Save the cache's paths from ``workdir`` under ``key``; -1 when policy/when say no."""
    if not cache_saves(cache, success=success):
        return -1
    rels = match_files(workdir, cache.paths)
    cache_dir.mkdir(parents=True, exist_ok=True)
    return replace_tree(workdir, rels, cache_dir / safe_name(key))


def fingerprint(job: Job, workdir: Path) -> str:
    """The job's definition and the contents of its ``inputs``."""
    definition = {
        "steps": [(s.kind, s.run, sorted(s.params.items(), key=str)) for s in job.steps],
        "before": [s.run for s in job.before_steps],
        "after": [s.run for s in job.after_steps],
        "variables": sorted(
            (k, v.reveal()) for k, v in job.variables.items() if not k.startswith(_VOLATILE)
        ),
        "image": job.image.name if job.image else None,
        "inputs": list(job.inputs),
    }
    digest = hashlib.sha256(json.dumps(definition, default=str, sort_keys=True).encode())
    digest.update(_hash_files(workdir, job.inputs).encode())
    return digest.hexdigest()


def _record_path(directory: Path, job: Job) -> Path:
    return directory / f"{safe_name(job.name)}.json"


def is_up_to_date(job: Job, directory: Path, print_: str) -> bool:
    path = _record_path(directory, job)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("fingerprint") == print_


def record_up_to_date(job: Job, directory: Path, print_: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = _record_path(directory, job)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"job": job.name, "fingerprint": print_}))
    tmp.replace(path)
