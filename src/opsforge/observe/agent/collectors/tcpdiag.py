"""TCP socket states through netlink ``sock_diag`` (what node_exporter's tcpstat uses).

Reading ``/proc/net/tcp`` makes the kernel walk its whole connection hash table and
format text (milliseconds of system time per scrape); one netlink dump per address
family returns only the sockets, as fixed-size binary records.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

__all__ = ["tcp_sockets"]

_NETLINK_INET_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 0x1
_NLM_F_DUMP = 0x300
_NLMSG_ERROR = 2
_NLMSG_DONE = 3
_HEADER = struct.Struct("=IHHII")  # nlmsghdr
_REQUEST = struct.Struct("=BBBBI48x")  # inet_diag_req_v2 (family, protocol, ext, pad, states, id)
_MESSAGE = struct.Struct("=xB2x48x4xII")  # inet_diag_msg: state, rqueue, wqueue
_ALL_STATES = 0xFFF


def _dump(sock: socket.socket, family: int, seq: int) -> Iterator[tuple[int, int, int]]:
    body = _REQUEST.pack(family, socket.IPPROTO_TCP, 0, 0, _ALL_STATES)
    header = _HEADER.pack(
        _HEADER.size + len(body), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST | _NLM_F_DUMP, seq, 0
    )
    sock.send(header + body)
    while True:
        data = sock.recv(65536)
        offset = 0
        while offset + _HEADER.size <= len(data):
            length, kind, _, _, _ = _HEADER.unpack_from(data, offset)
            if length < _HEADER.size:
                raise OSError("malformed netlink message")
            if kind == _NLMSG_DONE:
                return
            if kind == _NLMSG_ERROR:
                (errno,) = struct.unpack_from("=i", data, offset + _HEADER.size)
                raise OSError(-errno, "sock_diag dump failed")
            if kind == _SOCK_DIAG_BY_FAMILY:
                state, rqueue, wqueue = _MESSAGE.unpack_from(data, offset + _HEADER.size)
                yield state, rqueue, wqueue
            offset += (length + 3) & ~3


def tcp_sockets() -> Iterator[tuple[int, int, int]]:
    """``(state, rqueue, wqueue)`` of every IPv4 and IPv6 TCP socket; OSError when netlink
    sock_diag is unavailable (the caller falls back to /proc/net/tcp)."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_INET_DIAG) as sock:
        sock.settimeout(5.0)
        yield from _dump(sock, socket.AF_INET, 1)
        yield from _dump(sock, socket.AF_INET6, 2)
