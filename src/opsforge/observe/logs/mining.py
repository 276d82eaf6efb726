"""Mining whole files: header detection, the miner, and per-line template ids.

``mine_lines(lines)`` is the library entry point: it detects the header layout
from the first lines, mines each line's message, consolidates, and returns for
every line the final id of its template (merges resolved).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice

from opsforge.observe.logs.headers import HeaderDetector, HeaderSplitter
from opsforge.observe.logs.miner import MinerConfig, TemplateMiner
from opsforge.observe.logs.sources import read_lines

__all__ = ["DETECT_SAMPLE", "MiningResult", "mine_file", "mine_lines", "mine_stream"]

#: How many lines the header layout is detected from.
DETECT_SAMPLE = 200


@dataclass
class MiningResult:
    """The miner after a batch, the layout used, and each line's template id."""

    miner: TemplateMiner
    layout: str | None
    assignments: list[int] = field(default_factory=list)


def mine_stream(
    lines: Iterable[str],
    miner: TemplateMiner,
    layout: str | None,
    *,
    keep_assignments: bool = True,
    source: str = "",
) -> list[int]:
    """Mine ``lines`` (already stripped of newlines) with a fixed header layout."""
    add = miner.add
    split = HeaderSplitter(layout).message_and_time
    assignments: list[int] = []
    keep = assignments.append if keep_assignments else None
    for number, line in enumerate(lines, 1):
        if not line or line.isspace():
            if keep is not None:
                keep(0)
            continue
        message, stamp = split(line)
        seen = stamp or (f"{source}:{number}" if source else "")
        template_id = add(message, seen=seen, example=line)
        if keep is not None:
            keep(template_id)
    return assignments


def mine_lines(
    lines: Sequence[str],
    *,
    config: MinerConfig | None = None,
    layout: str | None = None,
    detect: bool = True,
    miner: TemplateMiner | None = None,
) -> MiningResult:
    """Mine a batch of lines; every line's final template id (0 for blank lines)."""
    miner = miner or TemplateMiner(config)
    if layout is None and detect:
        layout = HeaderDetector().detect(lines[:DETECT_SAMPLE])
    raw = mine_stream(lines, miner, layout)
    miner.consolidate()
    resolve = miner.resolve
    return MiningResult(miner, layout, [resolve(i) if i else 0 for i in raw])


def mine_file(
    path: str, miner: TemplateMiner, *, keep_assignments: bool = False
) -> tuple[str | None, list[int]]:
    """Mine one file (or ``-``): its detected layout and, if asked, each line's id.

    Ids are those at the time each line was mined; call ``miner.consolidate()``
    after the last file and map them through ``miner.resolve``.
    """
    lines = read_lines(path)
    sample = list(islice(lines, DETECT_SAMPLE))
    layout = HeaderDetector().detect(sample)
    ids = mine_stream(
        chain(sample, lines), miner, layout, keep_assignments=keep_assignments, source=path
    )
    return layout, ids
