"""Masking: what becomes <*> and what stays, as a table."""

from __future__ import annotations

import pytest

from opsforge.observe.logs.masking import mask

CASES = [
    (
        "PacketResponder 1 for block blk_38865049064139660 terminating",
        "PacketResponder <*> for block <*> terminating",
    ),
    (
        "Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106 "
        "dest: /10.250.19.102:50010",
        "Receiving block <*> src: <*> dest: <*>",
    ),
    (
        "logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4 user=root",
        "logname= uid=<*> euid=<*> tty=<*> ruser= rhost=<*> user=<*>",
    ),
    (
        "proxy.example.com:5070 close, 1190 bytes (1.16 KB) sent, lifetime <1 sec",
        "<*> close, <*> (<*>) sent, lifetime <*>",
    ),
    ("onExtend:1514038530000 14 0 4", "onExtend:<*>"),
    ("Fan speeds ( 3552, 3534, 3375 )", "Fan speeds ( <*> )"),
    (
        "connection from 1.2.3.4 (ns.example.com) at Sun Jul 10 04:05:06 2005",
        "connection from <*> (<*>) at <*>",
    ),
    ("workerEnv.init() ok /etc/httpd/conf/workers.properties", "workerEnv.init() ok <*>"),
    ("GET https://example.org/a?b=1 took 250ms", "GET <*> took <*>"),
    (
        "[instance: 3edec1e4-9678-4a3a-a21b-a145a4ee5e61] VM Started (Lifecycle Event)",
        "[instance: <*>] VM Started (Lifecycle Event)",
    ),
    ("CE sym 2, at 0x0b85eee0, mask 0x10", "CE sym <*>, at <*>, mask <*>"),
    ('acquire lock=1, tag="RILJ", name=com.android.phone', "acquire lock=<*>, tag=<*>, name=<*>"),
    (
        "Registered signal handlers for [TERM, HUP, INT]",
        "Registered signal handlers for [TERM, HUP, INT]",
    ),
    ("", ""),
]


@pytest.mark.parametrize(("message", "expected"), CASES)
def test_mask(message: str, expected: str) -> None:
    assert mask(message) == expected


def test_masking_ignores_which_digits_a_chunk_holds() -> None:
    """The miner's shape cache relies on this: mask(x) == mask(x with digit runs as 0)."""
    import re

    from logcorpus import HOLDOUT, SYSTEMS, generate

    digits = re.compile(r"\d+")
    for system in [*SYSTEMS, *HOLDOUT]:
        _, messages, _ = generate(system, 300, seed=2)
        for message in messages:
            assert mask(digits.sub("0", message)) == mask(message), message
