"""``opsforge scan``'s engine: list files, scan them in worker processes, match
dependencies against the advisory database, optionally walk git history, and
return one :class:`~opsforge.security.report.ScanReport`.

Files are split into batches of similar size and scanned by ``jobs`` processes
(each batch is read once for every scanner); small trees are scanned
in-process. The git history scan runs in the parent meanwhile.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from opsforge.errors import UsageError
from opsforge.security.findings import Finding, number_occurrences
from opsforge.security.report import Problem, ScanReport
from opsforge.security.scan.advisories import AdvisoryDBError, load_advisory_db
from opsforge.security.scan.dependencies import Pin, match_pins, read_environment
from opsforge.security.scan.file_scan import SCANNERS, BatchResult, scan_batch
from opsforge.security.scan.files import SourceFile, list_files
from opsforge.security.scan.history import scan_history

__all__ = ["ScanOptions", "default_jobs", "run_scan"]

_IN_PROCESS_BELOW = 64  # files; below this a pool costs more than it saves


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ScanOptions:
    root: Path
    scanners: frozenset[str] = frozenset(SCANNERS)
    history: bool = False
    db: Path | None = None
    envs: tuple[Path, ...] = ()
    exclude: tuple[str, ...] = ()
    all_files: bool = False
    max_file_size: int = 10 * 1024 * 1024
    jobs: int = field(default_factory=default_jobs)


def _batches(files: list[SourceFile], jobs: int) -> Iterator[list[SourceFile]]:
    """Batches of about equal bytes, several per worker so the pool stays busy."""
    total = sum(f.size for f in files) or 1
    target = max(total // (jobs * 8), 256 * 1024)
    batch: list[SourceFile] = []
    size = 0
    for file in files:
        batch.append(file)
        size += file.size
        if size >= target or len(batch) >= 400:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _worker_init() -> None:
    """Workers leave Ctrl-C to the parent, which stops them (no traceback per worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


_History = tuple[list[Finding], list[Problem]]


def _scan_files(
    files: list[SourceFile], options: ScanOptions
) -> tuple[list[BatchResult], _History]:
    """Batch results, and the history scan (run here while the workers are busy)."""
    wants_history = options.history and "secrets" in options.scanners
    history: _History = ([], [])
    if options.jobs <= 1 or len(files) < _IN_PROCESS_BELOW:
        if wants_history:
            history = scan_history(options.root, options.exclude)
        return [scan_batch(files, options.scanners, options.max_file_size)], history
    with ProcessPoolExecutor(
        max_workers=options.jobs, mp_context=_context(), initializer=_worker_init
    ) as pool:
        futures: list[Future[BatchResult]] = [
            pool.submit(scan_batch, batch, options.scanners, options.max_file_size)
            for batch in _batches(files, options.jobs)
        ]
        try:
            if wants_history:
                history = scan_history(options.root, options.exclude)
            return [future.result() for future in futures], history
        except BaseException:  # Ctrl-C or a failure: stop the workers now, by their PIDs
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _dependencies(pins: list[Pin], options: ScanOptions) -> tuple[list[Finding], list[Problem]]:
    problems: list[Problem] = []
    for env in options.envs:
        more_pins, more_problems = read_environment(env)
        pins.extend(more_pins)
        problems.extend(more_problems)
    if not pins:
        return [], problems
    if options.db is None:
        problems.append(
            Problem(
                f"{len(pins)} pinned packages not checked: no advisory database; give --db "
                "DIR|ARCHIVE (OSV format) or fetch one with --update-db",
                tool="dependencies",
            )
        )
        return [], problems
    try:
        db = load_advisory_db(options.db)
    except AdvisoryDBError as exc:
        problems.append(Problem(f"{len(pins)} pinned packages not checked: {exc}",
                                tool="dependencies"))  # fmt: skip
        return [], problems
    if db.unreadable:
        problems.append(
            Problem(
                f"advisory database: {len(db.unreadable)} records unreadable and not used "
                f"(e.g. {db.unreadable[0]})",
                path=str(options.db),
                tool="dependencies",
            )
        )
    findings, more = match_pins(pins, db)
    return findings, problems + more


def run_scan(options: ScanOptions) -> ScanReport:
    """Scan ``options.root``; see the module docstring."""
    root = options.root
    if not root.exists():
        raise UsageError(f"{root}: no such file or directory")
    unknown = options.scanners - set(SCANNERS)
    if unknown:
        raise UsageError(
            f"unknown scanner {sorted(unknown)[0]!r} (choose from {', '.join(SCANNERS)})"
        )
    files, problems, stats = list_files(root, exclude=options.exclude, all_files=options.all_files)
    results, (history_findings, history_problems) = _scan_files(files, options)
    findings: list[Finding] = []
    pins: list[Pin] = []
    binary: list[str] = []
    for result in results:
        findings.extend(result.findings)
        problems.extend(result.problems)
        pins.extend(result.pins)
        binary.extend(result.binary)
        stats["files_scanned"] = stats.get("files_scanned", 0) + result.files
        stats["bytes_scanned"] = stats.get("bytes_scanned", 0) + result.bytes
        stats["python_files"] = stats.get("python_files", 0) + result.python_files
    stats["files_skipped_binary"] += len(binary)
    if binary:
        problems.append(
            Problem(f"{len(binary)} binary files skipped (e.g. {binary[0]})", incomplete=False)
        )
    if "dependencies" in options.scanners:
        dep_findings, dep_problems = _dependencies(pins, options)
        findings.extend(dep_findings)
        problems.extend(dep_problems)
        stats["packages_checked"] = len(pins)
    if history_findings or history_problems:
        present = {(f.rule_id, f.location.path, f.key) for f in findings}
        findings.extend(
            f for f in history_findings if (f.rule_id, f.location.path, f.key) not in present
        )
        problems.extend(history_problems)
    return ScanReport(
        findings=number_occurrences(findings),
        problems=tuple(problems),
        root=str(root.resolve() if root.is_dir() else root.resolve().parent),
        tools=tuple(_tools(options.scanners)),
        stats=stats,
    )


def _tools(scanners: frozenset[str]) -> Iterator[str]:
    names = {"code": "bandit", "secrets": "secrets", "dependencies": "dependencies",
             "config": "config"}  # fmt: skip
    for scanner in SCANNERS:
        if scanner in scanners:
            yield names[scanner]
