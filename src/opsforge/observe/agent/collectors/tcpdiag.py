"""TCP socket states through netlink ``sock_diag`` (what node_exporter's tcpstat uses).

Reading ``/proc/net/tcp`` makes the kernel format every socket as text; one netlink dump
per address family returns fixed-size binary records instead. Without extensions every
record is 88 bytes (``nlmsghdr`` + ``inet_diag_msg``), so a whole receive buffer is
counted with slices and sums in C, not a Python loop per socket.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field

__all__ = ["TcpCounts", "tcp_counts"]

_NETLINK_INET_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 0x1
_NLM_F_DUMP = 0x300
_NLMSG_ERROR = 2
_NLMSG_DONE = 3
_HEADER = struct.Struct("=IHHII")  # nlmsghdr
_REQUEST = struct.Struct("=BBBBI48x")  # inet_diag_req_v2 (family, protocol, ext, pad, states, id)
_MESSAGE = struct.Struct("=xB2x48x4xII")  # inet_diag_msg: state, rqueue, wqueue
_RECORD = _HEADER.size + 72  # one socket: nlmsghdr + inet_diag_msg, no attributes
_STATE_AT = _HEADER.size + 1
_WORDS = _RECORD // 4  # the record as uint32 words: rqueue is word 18, wqueue word 19
_ALL_STATES = 0xFFF
_BUFFER = 1 << 20


@dataclass(slots=True)
class TcpCounts:
    states: dict[int, int] = field(default_factory=dict)
    rqueue: int = 0
    wqueue: int = 0

    def _add_records(self, data: bytes) -> None:
        """``data``: whole 88-byte socket records only."""
        count = len(data) // _RECORD
        if data[4::_RECORD].count(_SOCK_DIAG_BY_FAMILY) != count:
            raise OSError("unexpected netlink message in a sock_diag dump")
        states = data[_STATE_AT::_RECORD]
        for state in set(states):
            self.states[state] = self.states.get(state, 0) + states.count(state)
        words = memoryview(data).cast("I")
        self.rqueue += sum(words[18::_WORDS])
        self.wqueue += sum(words[19::_WORDS])

    def _add_slow(self, data: bytes) -> bool:
        """Message by message (records with attributes, DONE, ERROR); True at DONE."""
        offset = 0
        while offset + _HEADER.size <= len(data):
            length, kind, _, _, _ = _HEADER.unpack_from(data, offset)
            if length < _HEADER.size:
                raise OSError("malformed netlink message")
            if kind == _NLMSG_DONE:
                return True
            if kind == _NLMSG_ERROR:
                (errno,) = struct.unpack_from("=i", data, offset + _HEADER.size)
                raise OSError(-errno, "sock_diag dump failed")
            if kind == _SOCK_DIAG_BY_FAMILY:
                state, rqueue, wqueue = _MESSAGE.unpack_from(data, offset + _HEADER.size)
                self.states[state] = self.states.get(state, 0) + 1
                self.rqueue += rqueue
                self.wqueue += wqueue
            offset += (length + 3) & ~3
        return False

    def add(self, data: bytes) -> bool:
        """Count one receive buffer; True when it ended the dump."""
        whole = len(data) - len(data) % _RECORD
        uniform = whole and all(v == _RECORD for v in memoryview(data[:whole]).cast("I")[0::_WORDS])
        if uniform:
            self._add_records(data[:whole])
            data = data[whole:]
            if not data:
                return False
        return self._add_slow(data)


def _dump(sock: socket.socket, family: int, seq: int, counts: TcpCounts) -> None:
    body = _REQUEST.pack(family, socket.IPPROTO_TCP, 0, 0, _ALL_STATES)
    header = _HEADER.pack(
        _HEADER.size + len(body), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST | _NLM_F_DUMP, seq, 0
    )
    sock.send(header + body)
    while not counts.add(sock.recv(_BUFFER)):
        pass


def tcp_counts() -> TcpCounts:
    """Sockets per TCP state and the summed receive/send queues, IPv4 and IPv6; OSError
    when netlink sock_diag is unavailable (the caller falls back to /proc/net/tcp)."""
    counts = TcpCounts()
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_INET_DIAG) as sock:
        sock.settimeout(5.0)
        _dump(sock, socket.AF_INET, 1, counts)
        _dump(sock, socket.AF_INET6, 2, counts)
    return counts
