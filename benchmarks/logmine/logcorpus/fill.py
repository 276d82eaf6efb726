"""Placeholder fillers for the labelled corpus: ``{kind}`` or ``{choice:a|b|c}``.

Each ``{...}`` in a template is a variable of the ground truth (what a person
labelling the log would mark ``<*>``); everything else is constant.
"""

from __future__ import annotations

import random
import re
import string

USERS = [
    "root",
    "admin",
    "test",
    "oracle",
    "guest",
    "postgres",
    "nagios",
    "ftp",
    "ubuntu",
    "deploy",
    "git",
    "www",
    "mysql",
    "backup",
    "jenkins",
    "support",
    "info",
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "operator",
    "pi",
    "user",
    "web",
    "service",
]
WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
]
HOSTS = [
    "ns.example.com",
    "mail.corp.example.org",
    "static.cdn.net",
    "proxy.uni.edu.hk",
    "gateway.local",
    "api.service.io",
    "www.google.com",
    "login.live.com",
]
APPS = ["chrome.exe", "firefox.exe", "outlook.exe", "Dropbox.exe", "svchost.exe", "java.exe"]
CLASSES = [
    "org.apache.hadoop.mapred.TaskAttemptListenerImpl",
    "org.apache.hadoop.yarn.util.RackResolver",
    "org.apache.spark.storage.BlockManager",
    "com.example.billing.InvoiceService",
    "org.eclipse.jetty.server.Server",
]
PACKAGES = [
    "com.android.systemui",
    "com.tencent.mm",
    "com.whatsapp",
    "com.google.android.gms",
    "com.android.phone",
    "com.huawei.health",
]
PHRASES = [
    "Connection reset by peer",
    "No route to host",
    "Broken pipe",
    "timed out",
    "Permission denied",
    "Resource temporarily unavailable",
    "unexpected end of stream",
]


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _ip(rng: random.Random) -> str:
    return (
        f"{rng.randint(10, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


def _kind(rng: random.Random, kind: str) -> str:
    if kind.startswith("choice:"):
        return rng.choice(kind[7:].split("|"))
    match kind:
        case "int":
            return str(
                rng.choice([rng.randint(0, 99), rng.randint(100, 99999), rng.randint(1, 10**9)])
            )
        case "date":
            return f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        case "url":
            return f"http://{rng.choice(HOSTS)}/{rng.choice(WORDS)}/{rng.randint(1, 9999)}?id={rng.randint(1, 99)}"
        case "day":
            return str(rng.randint(1, 28))
        case "small":
            return str(rng.randint(0, 9))
        case "float":
            return f"{rng.random() * rng.choice([1, 10, 1000]):.{rng.randint(1, 6)}f}"
        case "ip":
            return _ip(rng)
        case "port":
            return str(rng.randint(1024, 65535))
        case "ipport":
            return f"{_ip(rng)}:{rng.randint(1024, 65535)}"
        case "hex":
            return "0x" + _hex(rng, rng.choice([2, 4, 8, 16]))
        case "hexid":
            return _hex(rng, 32)
        case "uuid":
            h = _hex(rng, 32)
            return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        case "blk":
            return f"blk_{rng.choice(['', '-'])}{rng.randint(10**17, 10**19)}"
        case "path":
            depth = rng.randint(2, 5)
            parts = [rng.choice([*WORDS, "var", "tmp", "data", "opt", "usr"]) for _ in range(depth)]
            name = (
                rng.choice(WORDS)
                + rng.choice(["", str(rng.randint(0, 99))])
                + rng.choice([".log", ".conf", ".jar", "", ".tmp"])
            )
            return "/" + "/".join(parts) + "/" + name
        case "user":
            return rng.choice(USERS)
        case "host":
            return rng.choice(
                HOSTS + [f"node-{rng.randint(1, 400)}", f"host{rng.randint(1, 99)}.example.com"]
            )
        case "hostport":
            return f"{rng.choice(HOSTS)}:{rng.choice([80, 443, 5070, 8080])}"
        case "word":
            return rng.choice(WORDS)
        case "app":
            return rng.choice(APPS)
        case "class":
            return rng.choice(CLASSES)
        case "pkg":
            return rng.choice(PACKAGES)
        case "phrase":
            return rng.choice(PHRASES)
        case "time":
            return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        case "dur":
            return rng.choice(
                [
                    f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
                    "<1 sec",
                    f"{rng.randint(1, 9)} sec",
                ]
            )
        case "size":
            return f"{rng.randint(1, 999)}.{rng.randint(0, 99):02d} {rng.choice(['KB', 'MB'])}"
        case "list":
            return ", ".join(str(rng.randint(0, 500)) for _ in range(rng.randint(1, 5)))
        case "id":
            return rng.choice(string.ascii_lowercase) + _hex(rng, rng.randint(6, 12))
        case "camel":
            return rng.choice(["onCreate", "onResume", "handleMessage", "dispatchTouch", "onStop"])
        case "job":
            return f"job_{rng.randint(10**12, 10**13)}_{rng.randint(1, 9999):04d}"
        case "attempt":
            return (
                f"attempt_{rng.randint(10**12, 10**13)}_{rng.randint(1, 99):04d}_"
                f"{rng.choice('mr')}_{rng.randint(0, 999999):06d}_{rng.randint(0, 3)}"
            )
        case "node":
            return f"R{rng.randint(0, 77):02d}-M{rng.randint(0, 1)}-N{rng.randint(0, 15)}-C:J{rng.randint(2, 18):02d}-U{rng.randint(0, 11):02d}"
        case "mac":
            return ":".join(_hex(rng, 2) for _ in range(6))
    raise ValueError(f"unknown placeholder kind {kind!r}")


_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def fill(template: str, rng: random.Random) -> str:
    """``template`` with each placeholder replaced by a random value of its kind."""
    return _PLACEHOLDER.sub(lambda m: _kind(rng, m.group(1)), template)
