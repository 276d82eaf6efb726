"""Network devices (``/proc/net/dev``) and TCP connection states (netlink sock_diag,
``/proc/net/tcp{,6}`` as the fallback).

Names and labels as node_exporter's netdev and tcpstat collectors. ``lo`` is
excluded by default, as in Debian's node_exporter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from opsforge.observe.agent.collectors.base import ScrapeContext
from opsforge.observe.agent.collectors.tcpdiag import TcpCounts, tcp_counts
from opsforge.observe.agent.exposition import Family, Labels

__all__ = ["DEFAULT_NETDEV_EXCLUDE", "NetdevCollector", "collect_tcpstat"]

DEFAULT_NETDEV_EXCLUDE = r"^lo$"

_RECEIVE = ("bytes", "packets", "errs", "drop", "fifo", "frame", "compressed", "multicast")
_TRANSMIT = ("bytes", "packets", "errs", "drop", "fifo", "colls", "carrier", "compressed")
_FIELDS = tuple(f"receive_{n}" for n in _RECEIVE) + tuple(f"transmit_{n}" for n in _TRANSMIT)


@dataclass(frozen=True, slots=True)
class NetdevCollector:
    device_exclude: re.Pattern[str] = re.compile(DEFAULT_NETDEV_EXCLUDE)

    def __call__(self, ctx: ScrapeContext) -> list[Family]:
        families = {
            field: Family(
                f"node_network_{field}_total", "counter", f"Network device statistic {field}."
            )
            for field in sorted((*_FIELDS, "receive_nohandler"))
        }
        for line in ctx.proc("net/dev").splitlines()[2:]:
            device, sep, rest = line.partition(":")
            device = device.strip()
            if not sep or self.device_exclude.search(device):
                continue
            values = rest.split()
            labels: Labels = (("device", device),)
            for field, raw in zip(_FIELDS, values, strict=False):
                families[field].add(int(raw), labels)
            nohandler = ctx.sys_text(f"class/net/{device}/statistics/rx_nohandler")
            if nohandler is not None and nohandler.isdigit():
                families["receive_nohandler"].add(int(nohandler), labels)
        return list(families.values())


# the kernel's TCP state numbers (include/net/tcp_states.h) and node_exporter's names
_TCP_STATES = {
    1: "established",
    2: "syn_sent",
    3: "syn_recv",
    4: "fin_wait1",
    5: "fin_wait2",
    6: "time_wait",
    7: "close",
    8: "close_wait",
    9: "last_ack",
    10: "listen",
    11: "closing",
}


def _proc_tcp_counts(ctx: ScrapeContext) -> TcpCounts:
    """The fallback: ``/proc/net/tcp`` and ``tcp6``."""
    counts = TcpCounts()
    for table in ("net/tcp", "net/tcp6"):
        try:
            text = ctx.proc(table)
        except FileNotFoundError:
            continue
        for line in text.splitlines()[1:]:
            parts = line.split(None, 5)
            if len(parts) >= 5:
                state = int(parts[3], 16)
                counts.states[state] = counts.states.get(state, 0) + 1
                tx, _, rx = parts[4].partition(":")
                counts.rqueue += int(rx, 16)
                counts.wqueue += int(tx, 16)
    return counts


def collect_tcpstat(ctx: ScrapeContext) -> list[Family]:
    try:
        counts = tcp_counts()
    except OSError:
        counts = _proc_tcp_counts(ctx)
    by_name = {_TCP_STATES[state]: n for state, n in counts.states.items() if state in _TCP_STATES}
    by_name["rx_queued_bytes"] = counts.rqueue
    by_name["tx_queued_bytes"] = counts.wqueue
    family = Family("node_tcp_connection_states", "gauge", "Number of connection states.")
    for key in sorted(by_name):
        family.add(by_name[key], (("state", key),))
    return [family]
