"""Helpers for operation tests: the real template engine, spec-case
facts, and a small "apply" that runs planned actions in one script (no planner)."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from opsforge.connectors.base import Connector
from opsforge.deploy.commands import WriteFile
from opsforge.deploy.facts.base import Fact, FactCache
from opsforge.deploy.facts.files import (
    CONTENT_LIMIT,
    ArchiveInSync,
    FileInfo,
    FileState,
    TreeDigests,
    TreeDrift,
    TreeDriftInfo,
)
from opsforge.deploy.operation import Change, Operation, PlanEnv
from opsforge.deploy.script import Section, SectionResult, build_script, new_token, parse_output
from opsforge.templating import TemplateEngine
from opsforge.types import Secret


def plan_env(
    base_dir: str | Path,
    variables: Mapping[str, Any] | None = None,
    secrets: tuple[Secret, ...] = (),
    host: str = "web1",
) -> PlanEnv:
    base = Path(base_dir)
    engine = TemplateEngine([base, base / "templates"])
    return PlanEnv(host, dict(variables or {}), str(base_dir), engine, secrets)


# ---- spec cases: facts described in YAML -----------------------------------------------

_DEFAULT_MODES = {"file": "0644", "directory": "0755", "link": "0777"}


def _ids(name: str) -> int:
    return 0 if name == "root" else 1000


def file_info(path: str, spec: Mapping[str, Any] | None, *, with_content: bool) -> FileInfo | None:
    """A FileInfo from a case's ``files`` entry (``null``: nothing there)."""
    if spec is None:
        return None
    kind = spec.get("type", "file")
    data: bytes | None = None
    if "content" in spec:
        data = str(spec["content"]).encode()
    size = int(spec.get("size", len(data) if data is not None else 0))
    owner = str(spec.get("owner", "root"))
    group = str(spec.get("group", owner))
    sha = spec.get("sha256")
    if sha is None and data is not None and kind == "file":
        sha = hashlib.sha256(data).hexdigest()
    if sha is None and kind == "file" and spec.get("readable", True):
        sha = hashlib.sha256(b"").hexdigest() if size == 0 else "0" * 64
    small = size <= CONTENT_LIMIT and kind == "file" and spec.get("readable", True)
    return FileInfo(
        path=path,
        type=kind,
        mode=int(str(spec.get("mode", _DEFAULT_MODES.get(kind, "0644"))), 8),
        owner=owner,
        group=group,
        uid=int(spec.get("uid", _ids(owner))),
        gid=int(spec.get("gid", _ids(group))),
        size=size,
        mtime=0,
        sha256=sha if kind == "file" and spec.get("readable", True) else None,
        link_target=spec.get("target"),
        content=(data if data is not None else b"") if with_content and small else None,
        too_big=with_content and kind == "file" and size > CONTENT_LIMIT,
        target_type=spec.get("target_type"),
        readable=bool(spec.get("readable", True)),
    )


def case_facts(case: Mapping[str, Any], facts: tuple[Fact[Any], ...]) -> FactCache:
    """A FactCache holding what the case says for every fact the operation reads."""
    cache = FactCache("web1")
    for fact in facts:
        if isinstance(fact, FileState):
            files = case.get("files") or {}
            if fact.path not in files:
                raise AssertionError(f"the case does not say what is at {fact.path} (files:)")
            cache.put(fact, file_info(fact.path, files[fact.path], with_content=fact.content))
        elif isinstance(fact, TreeDrift):
            drift = (case.get("tree_drift") or {}).get(fact.path) or {}
            cache.put(
                fact, TreeDriftInfo(tuple(drift.get("mode", ())), tuple(drift.get("owner", ())))
            )
        elif isinstance(fact, TreeDigests):
            tree = (case.get("digests") or {}).get(fact.path, {})
            value = None
            if tree is not None:
                value = tuple(
                    sorted(
                        (n, hashlib.sha256(str(t).encode()).hexdigest()) for n, t in tree.items()
                    )
                )
            cache.put(fact, value)
        elif isinstance(fact, ArchiveInSync):
            cache.put(fact, (case.get("archive") or {}).get(fact.archive, "differs"))
        else:
            raise AssertionError(f"no spec format for fact {fact!r}")
    return cache


def archive_bytes(kind: str, members: Mapping[str, str]) -> bytes:
    """A deterministic tar.gz / tar / zip with the given text members."""
    buf = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(buf, "w") as archive:
            for name, text in members.items():
                archive.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), text)
        return buf.getvalue()
    mode = "w:gz" if kind == "tar.gz" else "w"
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.PAX_FORMAT) as archive:  # type: ignore[call-overload]
        for name, text in members.items():
            data = str(text).encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1577836800
            archive.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    if kind == "tar.gz":  # the gzip header's own mtime: zero it for stable bytes
        raw = raw[:4] + b"\0\0\0\0" + raw[8:]
    return raw


def write_local(base: Path, local: Mapping[str, Any]) -> None:
    for name, value in local.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(value, Mapping):
            ((kind, members),) = value.items()
            path.write_bytes(archive_bytes(kind, members) if kind != "bytes" else bytes(members))
        else:
            path.write_text(str(value))


# ---- real runs: gather, plan, run every change in one script ---------------------------


async def gather_and_plan(
    conn: Connector, ops: list[Operation], env: PlanEnv
) -> tuple[list[Change], FactCache]:
    """Gather every fact of ``ops`` in one round trip, plan them in order (each seeing the
    previous ones' ``facts_after``) — what the planner does, minus its extras."""
    cache = FactCache(env.host)
    await cache.gather(conn, [f for op in ops for f in op.facts()])
    changes = []
    for op in ops:
        change = op.plan(cache, env)
        for fact, value in change.facts_after:
            cache.put(fact, value)
        changes.append(change)
    return changes, cache


async def apply(conn: Connector, changes: list[Change]) -> list[SectionResult]:
    """Run every change's actions, one section per change, in one ``sh -s``."""
    sections = [Section(c.actions) for c in changes if c.actions]
    if not sections:
        return []
    token = new_token()
    result = await conn.run("sh -s", stdin=build_script(sections, token))
    return parse_output(result.stdout, token, len(sections))


def written(change: Change) -> dict[str, bytes]:
    return {a.path: a.content for a in change.actions if isinstance(a, WriteFile)}
