"""The agent's payload for other hosts: opsforge's own source as one reproducible tarball.

opsforge is pure Python; on a host it runs from ``<prefix>/lib`` with the system's
Python and the distribution's packages of its few runtime needs (psutil, PyYAML,
click, rich). The tarball holds the ``opsforge`` package (``.py`` files and
``py.typed``) and a small ``opsforge-<version>.dist-info`` with the entry points, so
check plugins register on the host exactly as here. Same source → same bytes (sorted
members, fixed times and owners), so a re-install finds nothing to change.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from importlib import metadata
from pathlib import Path

import opsforge

__all__ = ["build_bundle", "bundle_members"]


def _entry_points() -> str:
    try:
        text = metadata.distribution("opsforge").read_text("entry_points.txt")
    except metadata.PackageNotFoundError:
        text = None
    return text or ""


def bundle_members() -> dict[str, bytes]:
    """Archive path → content, sorted."""
    root = Path(opsforge.__file__).resolve().parent
    members: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and (path.suffix == ".py" or path.name == "py.typed"):
            if "__pycache__" in path.parts:
                continue
            members[f"opsforge/{path.relative_to(root).as_posix()}"] = path.read_bytes()
    info = f"opsforge-{opsforge.__version__}.dist-info"
    members[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: opsforge\nVersion: {opsforge.__version__}\n"
    ).encode()
    members[f"{info}/entry_points.txt"] = _entry_points().encode()
    return dict(sorted(members.items()))


def build_bundle(directory: Path) -> Path:
    """Write ``opsforge-<version>.tar.gz`` into ``directory``; return its path."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in bundle_members().items():
            item = tarfile.TarInfo(name)
            item.size = len(data)
            item.mode = 0o644
            item.mtime = 0
            item.uname = item.gname = "root"
            tar.addfile(item, io.BytesIO(data))
    path = directory / f"opsforge-{opsforge.__version__}.tar.gz"
    path.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))
    return path
