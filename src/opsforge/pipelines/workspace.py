"""Job workdirs: one cheap, isolated copy of the project per job, or the project in place.

Isolation without a full copy per job: the project's files (git-tracked plus untracked
files git does not ignore; every file outside ``.git`` when the root is not a git work
tree) are copied **once per run** into a snapshot under the run directory, and each job
gets a tree of **hardlinks** to the snapshot. The user's files are never linked, so a
job can never change them; a job that rewrites a linked file in place (``>>`` on an
existing file; ``sed -i`` and most tools replace the file instead) changes the
snapshot that later jobs of the same run link to — the documented price of speed.
``--in-place`` runs every job in the project directory itself.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

from opsforge.errors import StateError

__all__ = ["RUNTIME_DIR", "Workspace", "project_files", "safe_name"]

#: Directory (under the project root) holding runs, caches and the up-to-date records.
RUNTIME_DIR = ".opsforge"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A file-name-safe, collision-free form of a job name."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "job"
    if cleaned == name:
        return name
    return f"{cleaned[:60]}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"


def project_files(root: Path) -> list[str]:
    """Relative paths of the project's files (see the module docstring)."""
    try:
        proc = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=False,
        )
    except OSError:
        proc = None
    if proc is not None and proc.returncode == 0:
        names = [n for n in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if n]
        return [
            n
            for n in dict.fromkeys(names)
            if not n.startswith(RUNTIME_DIR + "/") and os.path.lexists(root / n)
        ]
    found: list[str] = []
    for current, dirs, files in os.walk(root):
        rel = os.path.relpath(current, root)
        dirs[:] = sorted(d for d in dirs if not (rel == "." and d in (".git", RUNTIME_DIR)))
        for name in sorted(files):
            found.append(name if rel == "." else os.path.join(rel, name))
    return found


class Workspace:
    """Workdirs of one run (see the module docstring)."""

    def __init__(self, root: Path, run_dir: Path, *, in_place: bool) -> None:
        self.root = root
        self.run_dir = run_dir
        self.in_place = in_place
        self._snapshot: Path | None = None
        self._dirs: list[str] = []
        self._files: list[str] = []
        self._links: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def _ensure_snapshot(self) -> Path:
        with self._lock:
            if self._snapshot is not None:
                return self._snapshot
            snapshot = self.run_dir / "snapshot"
            dirs: dict[str, None] = {}
            links: list[tuple[str, str]] = []
            files: list[str] = []
            for rel in project_files(self.root):
                parent = os.path.dirname(rel)
                if parent not in dirs:
                    (snapshot / parent).mkdir(parents=True, exist_ok=True)
                    dirs[parent] = None
                src, dest = self.root / rel, snapshot / rel
                if src.is_symlink():
                    target = os.readlink(src)
                    os.symlink(target, dest)
                    links.append((rel, target))
                elif src.is_file():
                    shutil.copy2(src, dest)
                    files.append(rel)
            # what every job's tree is made of, decided once: no stat per file per job
            self._dirs = sorted(d for d in dirs if d)
            self._files = files
            self._links = links
            self._snapshot = snapshot
            return snapshot

    def job_dir(self, job_name: str, *, isolated: bool = False) -> Path:
        """A fresh workdir for ``job_name`` (the project root when in place, unless
        ``isolated``: an ssh job's local staging dir)."""
        if self.in_place and not isolated:
            return self.root
        try:
            snapshot = str(self._ensure_snapshot())
            workdir = self.run_dir / "work" / safe_name(job_name)
            if workdir.exists():
                shutil.rmtree(workdir)
            workdir.mkdir(parents=True)
            base = str(workdir)
            for rel in self._dirs:  # parents sort before their children
                os.makedirs(os.path.join(base, rel), exist_ok=True)
            for rel in self._files:
                os.link(os.path.join(snapshot, rel), os.path.join(base, rel))
            for rel, target in self._links:
                os.symlink(target, os.path.join(base, rel))
            return workdir
        except OSError as exc:
            raise StateError(f"cannot build the workdir of job {job_name!r}: {exc}") from None
