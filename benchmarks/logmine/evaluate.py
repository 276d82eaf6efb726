"""Grouping accuracy of opsforge's miner on the labelled corpus, per system.

    .venv/bin/python benchmarks/logmine/evaluate.py [--lines 2000] [--show SYSTEM]

Two columns: raw lines (headers detected and stripped by the miner) and the
message part alone (as a labelled benchmark that ships pre-split messages).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from logcorpus import HOLDOUT, SYSTEMS, generate, grouping_accuracy

from opsforge.observe.logs.mining import mine_lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--show", help="print the templates found for this system")
    parser.add_argument("--holdout", action="store_true", help="the second, held-out set")
    args = parser.parse_args()
    print("| system | raw lines | messages only |\n|---|---|---|")
    totals = [0.0, 0.0]
    systems = HOLDOUT if args.holdout else SYSTEMS
    for system in systems:
        raw, messages, labels = generate(system, args.lines)
        scores = []
        for lines in (raw, messages):
            result = mine_lines(lines)
            scores.append(grouping_accuracy(labels, result.assignments))
            if args.show == system and lines is raw:
                print(f"layout: {result.layout}")
                for template in sorted(result.miner.templates.values(), key=lambda t: -t.count):
                    print(f"  {template.count:6d} {template.text}")
        totals = [a + b for a, b in zip(totals, scores, strict=True)]
        print(f"| {system} | {scores[0]:.3f} | {scores[1]:.3f} |")
    n = len(systems)
    print(f"| **average** | **{totals[0] / n:.3f}** | **{totals[1] / n:.3f}** |")


if __name__ == "__main__":
    main()
