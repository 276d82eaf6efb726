"""opsforge agent vs node_exporter: CPU per scrape, latency, bytes (see README.md).

Both serve the same collectors on 127.0.0.1; scrapes alternate between them so both see
the same machine load. CPU is the server process's utime+stime (``/proc/PID/stat``)
over N scrapes. Servers are started here and stopped by PID.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

COLLECTORS = (
    "cpu", "diskstats", "filesystem", "loadavg", "meminfo", "netdev", "pressure", "stat",
    "tcpstat", "time", "uname",
)  # fmt: skip
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args} exited {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} not ready")


class Scraper:
    """One kept-alive HTTP/1.1 connection per peer, as Prometheus scrapes."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "", parts.port or 80, parts.path
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)

    def __call__(self, gzipped: bool) -> tuple[float, int, int]:
        headers = {"Accept": "text/plain;version=0.0.4"}
        if gzipped:
            headers["Accept-Encoding"] = "gzip"
        started = time.perf_counter()
        self.conn.request("GET", self.path, headers=headers)
        response = self.conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        gz = response.getheader("Content-Encoding") == "gzip"
        raw = gzip.decompress(body) if gz else body
        return elapsed, len(body), len(raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--scrapes", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    ne_port, agent_port = free_port(), free_port()
    node_exporter = subprocess.Popen(
        [
            "prometheus-node-exporter",
            f"--web.listen-address=127.0.0.1:{ne_port}",
            "--collector.disable-defaults",
            "--web.disable-exporter-metrics",  # no go_/process_/promhttp_ self-metrics
            *(f"--collector.{c}" for c in COLLECTORS),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    agent_config = Path(f"/tmp/agent-bench-{os.getpid()}.yml")
    agent_config.write_text(f"collectors: {{enable: [{', '.join(COLLECTORS)}]}}\n")
    agent = subprocess.Popen(
        [sys.executable, "-m", "opsforge", "agent", "serve", "--listen",
         f"127.0.0.1:{agent_port}", "--config", str(agent_config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    peers = {
        "node_exporter": (node_exporter, f"http://127.0.0.1:{ne_port}/metrics"),
        "opsforge agent": (agent, f"http://127.0.0.1:{agent_port}/metrics"),
    }
    try:
        scrapers = {}
        for name, (proc, url) in peers.items():
            wait_ready(url, proc)
            scrapers[name] = Scraper(url)
            for _ in range(20):  # warm up (imports, caches, Go's GC)
                scrapers[name](True)
        results: dict[str, dict[str, list[float]]] = {
            name: {"cpu_ms": [], "latency_ms": [], "bytes_gzip": [], "bytes": []} for name in peers
        }
        for _ in range(args.rounds):
            for gzipped in (True, False):
                cpu_start = {n: cpu_seconds(p.pid) for n, (p, _) in peers.items()}
                for _ in range(args.scrapes):
                    for name in peers:
                        elapsed, wire, raw = scrapers[name](gzipped)
                        results[name]["latency_ms"].append(elapsed * 1000)
                        results[name]["bytes_gzip" if gzipped else "bytes"].append(
                            wire if gzipped else raw
                        )
                for name, (proc, _) in peers.items():
                    used = cpu_seconds(proc.pid) - cpu_start[name]
                    results[name]["cpu_ms"].append(used / args.scrapes * 1000)
    finally:
        for proc, _ in peers.values():
            proc.send_signal(signal.SIGTERM)
        for proc, _ in peers.values():
            proc.wait(10)
        agent_config.unlink(missing_ok=True)

    med = {n: {k: statistics.median(v) for k, v in r.items()} for n, r in results.items()}
    ne, ag = med["node_exporter"], med["opsforge agent"]
    print(f"collectors: {', '.join(COLLECTORS)}")
    print(f"{args.rounds} rounds x {args.scrapes} scrapes per encoding, alternating peers\n")
    print("| | node_exporter | opsforge agent | agent / node_exporter |")
    print("|---|---:|---:|---:|")
    rows = (
        ("CPU per scrape (ms, median of rounds, gzip and plain)", "cpu_ms", "{:.2f}"),
        ("scrape latency (ms, median)", "latency_ms", "{:.2f}"),
        ("body bytes, gzip", "bytes_gzip", "{:.0f}"),
        ("body bytes, uncompressed", "bytes", "{:.0f}"),
    )
    for label, key, fmt in rows:
        ratio = ag[key] / ne[key] if ne[key] else float("nan")
        print(f"| {label} | {fmt.format(ne[key])} | {fmt.format(ag[key])} | {ratio:.2f} |")
    print("\nper-round CPU ms/scrape:")
    for name, r in results.items():
        print(f"  {name}: {', '.join(f'{x:.2f}' for x in r['cpu_ms'])}")


if __name__ == "__main__":
    main()
