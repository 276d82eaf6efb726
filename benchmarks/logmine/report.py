"""Tables (markdown) from run.sh's results.jsonl: throughput, accuracy, parsing."""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict


def main(path: str) -> None:
    with open(path, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    seconds: dict[str, list[float]] = defaultdict(list)
    info: dict[str, dict[str, float]] = {}
    for row in rows:
        if "tool" in row:
            seconds[row["tool"]].append(row["result"]["seconds"])
            info[row["tool"]] = row["result"]
    print("| tool | lines | templates | median s | lines/s | opsforge speed-up |")
    print("|---|---|---|---|---|---|")
    ours = statistics.median(seconds["opsforge"])
    for tool, values in seconds.items():
        median = statistics.median(values)
        lines = info[tool]["lines"]
        print(f"| {tool} | {lines} | {info[tool]['templates']} | {median:.1f} | "
              f"{lines / median:,.0f} | {median / ours:.2f}x |")  # fmt: skip
    accuracy = {row["accuracy"]: row["result"] for row in rows if "accuracy" in row}
    tools = list(accuracy)
    print()
    print("| system | " + " | ".join(f"{t} raw | {t} msg" for t in tools) + " |")
    print("|---|" + "---|---|" * len(tools))
    systems = list(next(iter(accuracy.values())))
    for system in systems:
        cells = " | ".join(
            f"{accuracy[t][system][0]:.3f} | {accuracy[t][system][1]:.3f}" for t in tools
        )
        print(f"| {system} | {cells} |")
    for group in ("main", "holdout"):
        names = [s for s in systems if s.startswith(group + "/")]
        cells = " | ".join(
            f"**{statistics.mean(accuracy[t][s][0] for s in names):.3f}** | "
            f"**{statistics.mean(accuracy[t][s][1] for s in names):.3f}**"
            for t in tools
        )
        print(f"| **average {group}** | {cells} |")
    for row in rows:
        if "parse" in row:
            print()
            print("| format | records | seconds | records/s |")
            print("|---|---|---|---|")
            for name, value in row["parse"].items():
                rate = value["records"] / value["seconds"]
                cells = [f"{name} ({value['format']})", str(value["records"])]
                cells += [f"{value['seconds']:.2f}", f"{rate:,.0f}"]
                print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
