"""A labelled log corpus written for opsforge: 16 systems, realistic message shapes.

``generate(system, n, seed)`` gives ``(raw_lines, messages, labels)``: the full log
lines with the system's usual header, the message part alone, and for each line
the id of its ground-truth template. Every ``{...}`` of a template is a variable,
everything else is constant. Written by hand for this project; no public
benchmark data is used or copied.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from logcorpus import holdout, systems_a, systems_b
from logcorpus.fill import fill

__all__ = ["HOLDOUT", "SYSTEMS", "generate", "grouping_accuracy"]

Header = Callable[[random.Random, datetime, str, str], str]


def _hdfs(rng: random.Random, t: datetime, level: str, comp: str) -> str:
    return f"{t:%y%m%d %H%M%S} {rng.randint(1, 40000)} {level} {comp}: "


def _hadoop(rng: random.Random, t: datetime, level: str, comp: str) -> str:
    thread = rng.choice(
        [
            "main",
            "IPC Server handler 5 on 62270",
            "AsyncDispatcher event handler",
            "RMCommunicator Allocator",
        ]
    )
    return f"{t:%Y-%m-%d %H:%M:%S},{rng.randint(0, 999):03d} {level} [{thread}] {comp}: "


def _spark(rng: random.Random, t: datetime, level: str, comp: str) -> str:
    return f"{t:%y/%m/%d %H:%M:%S} {level} {comp}: "


def _zookeeper(rng: random.Random, t: datetime, level: str, comp: str) -> str:
    return f"{t:%Y-%m-%d %H:%M:%S},{rng.randint(0, 999):03d} - {level:<5} [{fill(comp, rng)}] - "


def _openstack(rng: random.Random, t: datetime, level: str, comp: str) -> str:
    source = rng.choice(
        ["nova-api.log.1.2017-05-16_13:53:08", "nova-compute.log.1.2017-05-16_13:55:31"]
    )
    return f"{source} {t:%Y-%m-%d %H:%M:%S}.{rng.randint(0, 999):03d} {rng.randint(1000, 30000)} {level} {comp} "


def _bgl(rng: random.Random, t: datetime, level: str, comp: str) -> str:
    node = fill("{node}", rng)
    label = rng.choice(["-", "-", "-", "KERNDTLB", "APPREAD"])
    return (
        f"{label} {int(t.timestamp())} {t:%Y.%m.%d} {node} {t:%Y-%m-%d-%H.%M.%S}.{rng.randint(0, 999999):06d} "
        f"{node} RAS {comp} {level} "
    )


def _hpc(rng: random.Random, t: datetime, level: str, comp: str) -> str:
    return f"{rng.randint(1, 500000)} node-{rng.randint(1, 400)} {comp} {level} {int(t.timestamp())} 1 "


def _thunderbird(rng: random.Random, t: datetime, level: str, comp: str) -> str:
    node = f"{rng.choice(['dn', 'an', 'bn', 'cn'])}{rng.randint(1, 999)}"
    pid = f"[{rng.randint(100, 30000)}]" if rng.random() < 0.7 and comp != "kernel" else ""
    return f"- {int(t.timestamp())} {t:%Y.%m.%d} {node} {t:%b} {t.day} {t:%H:%M:%S} {node}/{node} {comp}{pid}: "


def _windows(rng: random.Random, t: datetime, level: str, comp: str) -> str:
    return f"{t:%Y-%m-%d %H:%M:%S}, {level:<22}{comp:<7}"


def _syslog(host: str) -> Header:
    def header(rng: random.Random, t: datetime, level: str, comp: str) -> str:
        pid = (
            f"[{rng.randint(100, 30000)}]"
            if comp not in ("kernel", "logrotate") and "[" not in comp
            else ""
        )
        return f"{t:%b} {t.day:>2} {t:%H:%M:%S} {host} {fill(comp, rng)}{pid}: "

    return header


def _mac(rng: random.Random, t: datetime, level: str, comp: str) -> str:
    host = rng.choice(["calvisitor-10-105-160-95", "authorMacBook-Pro"])
    return f"{t:%b} {t.day:>2} {t:%H:%M:%S} {host} {fill(comp, rng)}: "


def _android(rng: random.Random, t: datetime, level: str, comp: str) -> str:
    return f"{t:%m-%d %H:%M:%S}.{rng.randint(0, 999):03d} {rng.randint(100, 9999):>5} {rng.randint(100, 9999):>5} {level} {comp}: "


def _healthapp(rng: random.Random, t: datetime, level: str, comp: str) -> str:
    return f"{t:%Y%m%d-%H:%M:%S}:{rng.randint(0, 999)}|{comp}|{rng.randint(30000000, 30009999)}|"


def _apache(rng: random.Random, t: datetime, level: str, comp: str) -> str:
    return f"[{t:%a %b %d %H:%M:%S %Y}] [{level}] "


def _proxifier(rng: random.Random, t: datetime, level: str, comp: str) -> str:
    return f"[{t:%m.%d %H:%M:%S}] {fill(comp, rng)} - "


SYSTEMS: dict[str, tuple[str, Header]] = {
    "HDFS": (systems_a.HDFS, _hdfs),
    "Hadoop": (systems_a.HADOOP, _hadoop),
    "Spark": (systems_a.SPARK, _spark),
    "Zookeeper": (systems_a.ZOOKEEPER, _zookeeper),
    "OpenStack": (systems_a.OPENSTACK, _openstack),
    "BGL": (systems_b.BGL, _bgl),
    "HPC": (systems_b.HPC, _hpc),
    "Thunderbird": (systems_b.THUNDERBIRD, _thunderbird),
    "Windows": (systems_b.WINDOWS, _windows),
    "Linux": (systems_b.LINUX, _syslog("combo")),
    "OpenSSH": (systems_b.OPENSSH, _syslog("LabSZ")),
    "Android": (systems_b.ANDROID, _android),
    "HealthApp": (systems_b.HEALTHAPP, _healthapp),
    "Apache": (systems_b.APACHE, _apache),
    "Proxifier": (systems_b.PROXIFIER, _proxifier),
    "Mac": (systems_b.MAC, _mac),
}


def _iso(rng: random.Random, t: datetime, level: str, comp: str) -> str:
    return f"{t:%Y-%m-%dT%H:%M:%S}.{rng.randint(0, 999):03d}Z {level} {fill(comp, rng)}: "


def _nginx(rng: random.Random, t: datetime, level: str, comp: str) -> str:
    return f"{t:%Y/%m/%d %H:%M:%S} [{level}] "


def _none(rng: random.Random, t: datetime, level: str, comp: str) -> str:
    return ""


_HOLDOUT_HEADERS: dict[str, Header] = {
    "iso": _iso,
    "syslog": _syslog("web01"),
    "nginx": _nginx,
    "none": _none,
    "openstack": _openstack,
}

#: The second set, never used to choose the miner's defaults.
HOLDOUT: dict[str, tuple[str, Header]] = {
    name: (table, _HOLDOUT_HEADERS[kind]) for name, (table, kind) in holdout.HOLDOUT.items()
}


def _templates(table: str) -> list[tuple[int, str, str, str]]:
    rows = []
    for line in table.splitlines():
        weight, level, comp, message = line.split("|", 3)
        rows.append((int(weight), level, comp, message))
    return rows


def generate(system: str, n: int = 2000, seed: int = 5) -> tuple[list[str], list[str], list[int]]:
    """``n`` lines of ``system``: raw lines, their messages, ground-truth template ids."""
    table, header = SYSTEMS[system] if system in SYSTEMS else HOLDOUT[system]
    rows = _templates(table)
    rng = random.Random(f"{system}:{seed}")
    weights = [row[0] for row in rows]
    t = datetime(2024, 3, 1, 8, 0, 0)
    raw, messages, labels = [], [], []
    # every template appears at least once; the rest follow the weights
    order = list(range(len(rows))) + rng.choices(range(len(rows)), weights=weights, k=n - len(rows))
    rng.shuffle(order)
    for index in order:
        _, level, comp, template = rows[index]
        t += timedelta(seconds=rng.choice([0, 0, 1, 2, 5]))
        message = fill(template, rng)
        raw.append(header(rng, t, level, comp) + message)
        messages.append(message)
        labels.append(index)
    return raw, messages, labels


def grouping_accuracy(truth: list[int], predicted: list[int]) -> float:
    """Share of lines whose predicted group is exactly their true group."""
    true_sizes: dict[int, int] = {}
    for label in truth:
        true_sizes[label] = true_sizes.get(label, 0) + 1
    groups: dict[int, list[int]] = {}
    for label, group in zip(truth, predicted, strict=True):
        groups.setdefault(group, []).append(label)
    correct = 0
    for members in groups.values():
        first = members[0]
        if all(m == first for m in members) and true_sizes[first] == len(members):
            correct += len(members)
    return correct / len(truth)
