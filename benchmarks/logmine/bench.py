"""logmine benchmark: opsforge's miner vs drain3 (TemplateMiner with masking, bare Drain).

Subcommands (run.sh calls them with the right interpreter):

  data FILE N           write N generated raw log lines (16 systems, interleaved blocks)
  mine-opsforge FILE    mine FILE with opsforge; JSON {lines, seconds, templates}
  mine-drain3 FILE MODE mine FILE with drain3 (MODE: masked | bare); same JSON
  accuracy TOOL         grouping accuracy per system on the labelled sets (TOOL:
                        opsforge | drain3-masked | drain3-bare); JSON
  parse                 opsforge's format parsers, records/s per format; JSON

Timings include reading the file line by line; nothing else runs in the process.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from logcorpus import HOLDOUT, SYSTEMS, generate, grouping_accuracy

# drain3's own example masking (its README's drain3.ini), written out as data
DRAIN3_MASKING = [
    (r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)", "ID"),
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
    (r"(?<=executed cmd )(\".+?\")", "CMD"),
]


def make_data(path: str, total: int) -> None:
    rng = random.Random(42)
    names = list(SYSTEMS)
    pools = {name: generate(name, 20_000, seed=99)[0] for name in names}
    with open(path, "w", encoding="utf-8") as out:
        written = 0
        while written < total:
            name = rng.choice(names)
            pool = pools[name]
            start = rng.randrange(len(pool))
            block = pool[start : start + rng.randint(50, 500)]
            block = block[: total - written]
            out.write("\n".join(block) + "\n")
            written += len(block)


def _drain3_miner(mode: str) -> Any:
    if mode == "bare":
        from drain3.drain import Drain

        drain = Drain()

        class Bare:
            def add_log_message(self, line: str) -> int:
                cluster, _ = drain.add_log_message(line)
                return int(cluster.cluster_id)

        return Bare()
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()
    config.masking_instructions = [MaskingInstruction(p, m) for p, m in DRAIN3_MASKING]
    config.profiling_enabled = False
    miner = TemplateMiner(config=config)

    class Masked:
        def add_log_message(self, line: str) -> int:
            return int(miner.add_log_message(line)["cluster_id"])

    return Masked()


def mine_drain3(path: str, mode: str) -> dict[str, Any]:
    miner = _drain3_miner(mode)
    ids = set()
    started = time.perf_counter()
    lines = 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            ids.add(miner.add_log_message(line.rstrip("\n")))
            lines += 1
    return {"lines": lines, "seconds": time.perf_counter() - started, "templates": len(ids)}


def mine_opsforge(path: str) -> dict[str, Any]:
    from opsforge.observe.logs.miner import TemplateMiner
    from opsforge.observe.logs.mining import mine_file

    miner = TemplateMiner()
    started = time.perf_counter()
    mine_file(path, miner)
    miner.consolidate()
    seconds = time.perf_counter() - started
    return {"lines": sum(t.count for t in miner.templates.values()), "seconds": seconds,
            "templates": len(miner.templates)}  # fmt: skip


def accuracy(tool: str) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for group, systems in (("main", SYSTEMS), ("holdout", HOLDOUT)):
        for system in systems:
            raw, messages, labels = generate(system, 2000)
            scores = []
            for lines in (raw, messages):
                if tool == "opsforge":
                    from opsforge.observe.logs.mining import mine_lines

                    predicted = mine_lines(lines).assignments
                else:
                    miner = _drain3_miner(tool.split("-", 1)[1])
                    predicted = [miner.add_log_message(line) for line in lines]
                scores.append(round(grouping_accuracy(labels, predicted), 4))
            results[f"{group}/{system}"] = scores
    return results


def parse_throughput() -> dict[str, Any]:
    from opsforge.observe.logs.parsing import choose_parser, parse_lines

    rng = random.Random(3)
    n = 100_000
    samples = {
        "syslog": lambda i: f"Mar  1 08:00:{i % 60:02d} web{i % 9} sshd[{i}]: Accepted publickey for u{i % 7} from 10.0.{i % 250}.{i % 200} port {i % 60000} ssh2",
        "rfc5424": lambda i: f'<165>1 2024-03-01T08:00:{i % 60:02d}.003Z web{i % 9} app {i} ID47 [meta seq="{i}"] request {i} served',
        "nginx": lambda i: f'10.0.{i % 250}.{i % 200} - - [01/Mar/2024:08:00:{i % 60:02d} +0000] "GET /api/items/{i} HTTP/1.1" 200 {i % 5000} "-" "curl/8.0"',
        "apache": lambda i: f"[Fri Mar 01 08:00:{i % 60:02d} 2024] [error] [client 10.0.0.{i % 250}] File does not exist: /srv/www/{i}",
        "json": lambda i: json.dumps({"time": f"2024-03-01T08:00:{i % 60:02d}Z", "level": "info", "msg": f"request {i} served", "latency_ms": rng.randint(1, 900)}),
        "logfmt": lambda i: f'ts=2024-03-01T08:00:{i % 60:02d}Z level=info msg="request {i} served" latency_ms={i % 900}',
        "journald": lambda i: json.dumps({"__REALTIME_TIMESTAMP": str(1709280000000000 + i), "MESSAGE": f"Started Session {i}.", "_HOSTNAME": "h", "_PID": str(i), "PRIORITY": "6"}),
        "generic": lambda i: f"2024-03-01 08:00:{i % 60:02d},123 INFO [main] org.example.Service: request {i} served in {i % 900} ms",
    }  # fmt: skip
    results = {}
    for name, make in samples.items():
        lines = [make(i) for i in range(n)]
        choice = choose_parser(name if name != "generic" else "auto", lines[:50])
        started = time.perf_counter()
        count = sum(1 for _ in parse_lines(lines, choice))
        seconds = time.perf_counter() - started
        results[name] = {"records": count, "seconds": seconds, "format": choice.name}
    return results


def main() -> None:
    command, *args = sys.argv[1:]
    if command == "data":
        make_data(args[0], int(args[1]))
        return
    handlers = {
        "mine-opsforge": lambda: mine_opsforge(args[0]),
        "mine-drain3": lambda: mine_drain3(args[0], args[1]),
        "accuracy": lambda: accuracy(args[0]),
        "parse": parse_throughput,
    }
    print(json.dumps(handlers[command]()))


if __name__ == "__main__":
    main()
