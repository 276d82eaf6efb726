"""What an SSH server really offers on the wire: its identification and KEXINIT lists.

The server sends its SSH identification string and its ``SSH_MSG_KEXINIT`` (RFC 4253
sections 4.2 and 7.1) in clear, before any key is agreed. We read both over a plain
TCP connection — the same lists asyncssh negotiates against — and, when the server
offers Diffie-Hellman group exchange, ask for the smallest group it will hand out
(``SSH_MSG_KEX_DH_GEX_REQUEST``, RFC 4419) and read the modulus size from its
``SSH_MSG_KEX_DH_GEX_GROUP``. Nothing is authenticated; the connection is then closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import struct
from dataclasses import dataclass

from opsforge import __version__

__all__ = ["ServerOffer", "WireError", "read_server_offer"]

_MSG_KEXINIT = 20
_MSG_KEX_DH_GEX_REQUEST = 34
_MSG_KEX_DH_GEX_GROUP = 31
_MAX_PACKET = 256 * 1024
_MAX_BANNER_LINES = 50


class WireError(Exception):
    """The server's identification or KEXINIT could not be read."""


@dataclass(frozen=True)
class ServerOffer:
    """The server's identification and the algorithm lists of its KEXINIT."""

    banner: str
    kex: tuple[str, ...]
    host_key: tuple[str, ...]
    ciphers: tuple[str, ...]  # server to client (what we read); client to server is the same
    macs: tuple[str, ...]
    compression: tuple[str, ...]
    gex_modulus_bits: int | None = None  # smallest group-exchange modulus handed out

    def by_category(self) -> dict[str, tuple[str, ...]]:
        return {
            "kex": self.kex,
            "host_key": self.host_key,
            "cipher": self.ciphers,
            "mac": self.macs,
        }


def _packet(payload: bytes) -> bytes:
    pad = 8 - (5 + len(payload)) % 8
    if pad < 4:
        pad += 8
    return struct.pack(">IB", 1 + len(payload) + pad, pad) + payload + os.urandom(pad)


def _string(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def _name_list(names: tuple[str, ...] | list[str]) -> bytes:
    return _string(",".join(names).encode("ascii"))


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise WireError("truncated packet")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def uint32(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])

    def string(self) -> bytes:
        return self.take(self.uint32())

    def name_list(self) -> tuple[str, ...]:
        text = self.string().decode("ascii", errors="replace")
        return tuple(name for name in text.split(",") if name)


async def _read_packet(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readexactly(5)
    length, pad = struct.unpack(">IB", head)
    if length < 1 + pad or length > _MAX_PACKET:
        raise WireError(f"bad packet length {length}")
    body = await reader.readexactly(length - 1)
    return body[: length - 1 - pad]


async def _read_banner(reader: asyncio.StreamReader) -> str:
    for _ in range(_MAX_BANNER_LINES):
        line = await reader.readline()
        if not line:
            break
        if line.startswith(b"SSH-"):
            return line.rstrip(b"\r\n").decode("ascii", errors="replace")
    raise WireError("the server sent no SSH identification string")


def _parse_kexinit(payload: bytes, banner: str) -> ServerOffer:
    if not payload or payload[0] != _MSG_KEXINIT:
        raise WireError(f"expected KEXINIT, got message {payload[:1].hex() or 'nothing'}")
    data = _Reader(payload[1:])
    data.take(16)  # cookie
    lists = [data.name_list() for _ in range(10)]
    return ServerOffer(
        banner=banner,
        kex=lists[0],
        host_key=lists[1],
        ciphers=lists[3],
        macs=lists[5],
        compression=lists[7],
    )


def _mpint_bits(value: bytes) -> int:
    return int.from_bytes(value, "big").bit_length()


async def _gex_probe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, offer: ServerOffer, gex: str
) -> int | None:
    """Our KEXINIT choosing ``gex``, then a request for the smallest group (1024 bits)."""
    mine = [
        (gex,),
        offer.host_key[:1],
        offer.ciphers[:1],
        offer.ciphers[:1],
        offer.macs[:1],
        offer.macs[:1],
        ("none",),
        ("none",),
        (),
        (),
    ]
    payload = bytes([_MSG_KEXINIT]) + os.urandom(16)
    payload += b"".join(_name_list(names) for names in mine) + b"\0" + b"\0\0\0\0"
    request = bytes([_MSG_KEX_DH_GEX_REQUEST]) + struct.pack(">III", 1024, 1024, 8192)
    writer.write(_packet(payload) + _packet(request))
    await writer.drain()
    for _ in range(5):  # skip SSH_MSG_IGNORE / DEBUG the server may send first
        reply = await _read_packet(reader)
        if reply and reply[0] == _MSG_KEX_DH_GEX_GROUP:
            return _mpint_bits(_Reader(reply[1:]).string())
        if reply and reply[0] == 1:  # disconnect: it refused the sizes we asked for
            return None
    return None


async def _exchange(address: str, port: int, probe_gex: bool) -> ServerOffer:
    reader, writer = await asyncio.open_connection(address, port)
    try:
        writer.write(f"SSH-2.0-opsforge_audit_{__version__}\r\n".encode("ascii"))
        await writer.drain()
        banner = await _read_banner(reader)
        offer = _parse_kexinit(await _read_packet(reader), banner)
        gex = next((k for k in offer.kex if k.startswith("diffie-hellman-group-exchange")), None)
        if probe_gex and gex is not None and offer.host_key and offer.ciphers and offer.macs:
            bits = None
            with contextlib.suppress(WireError, asyncio.IncompleteReadError, OSError):
                bits = await _gex_probe(reader, writer, offer, gex)
            if bits is not None:
                offer = dataclasses.replace(offer, gex_modulus_bits=bits)
        return offer
    finally:
        writer.close()
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            await writer.wait_closed()


async def read_server_offer(
    address: str, port: int = 22, *, within: float = 10.0, probe_gex: bool = True
) -> ServerOffer:
    """Connect to ``address:port`` and read what the SSH server offers (at most
    ``within`` seconds)."""
    timeout = within
    try:
        return await asyncio.wait_for(_exchange(address, port, probe_gex), timeout)
    except TimeoutError:
        raise WireError(f"{address}:{port}: no KEXINIT within {timeout:g}s") from None
    except asyncio.IncompleteReadError:
        raise WireError(f"{address}:{port}: the server closed the connection early") from None
    except OSError as exc:
        raise WireError(f"{address}:{port}: {exc.strerror or exc}") from None
