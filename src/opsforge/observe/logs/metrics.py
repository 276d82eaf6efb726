"""``opsforge_log_template_lines_total``: lines per template, Prometheus text format.

Written as a node_exporter textfile (``--metrics FILE``, replaced atomically so a
scrape never reads half a file) or served over HTTP (``--listen``) by the
caller. Only the ``top`` templates by count are exposed, to keep the series
count bounded; the template text is a label, truncated to 200 characters.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from opsforge.errors import StateError
from opsforge.observe.agent.exposition import Family, render
from opsforge.observe.logs.miner import TemplateMiner

__all__ = ["METRIC_NAME", "template_exposition", "write_textfile"]

METRIC_NAME = "opsforge_log_template_lines_total"


def template_exposition(miner: TemplateMiner, top: int = 50) -> bytes:
    """The exposition for the ``top`` templates by count."""
    family = Family(METRIC_NAME, "counter", "Log lines seen per template (top templates by count).")
    ranked = sorted(miner.templates.values(), key=lambda t: (-t.count, t.id))[:top]
    for template in ranked:
        family.add(
            template.count, (("template_id", str(template.id)), ("template", template.text[:200]))
        )
    return render([family])


def write_textfile(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temporary file in the same directory)."""
    directory = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as exc:
        raise StateError(f"cannot write metrics file {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise StateError(f"cannot write metrics file {path}: {exc.strerror or exc}") from None
