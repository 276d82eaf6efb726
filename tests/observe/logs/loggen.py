"""Generated JSON logs with anomalies injected at known minutes (the ground truth)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

START = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
HOSTS = ["web1", "web2", "web3"]
NORMAL = [  # (per minute, level, message)
    (20, "info", "GET /api/items/{n} served in {ms} ms"),
    (8, "info", "user {user} logged in from 10.0.{a}.{b}"),
    (5, "info", "cache miss for key item:{n}"),
    (3, "warn", "slow query took {ms} ms on table orders"),
    (1, "error", "request {n} failed: upstream timeout"),
]
USERS = ["alice", "bob", "carol", "dave", "erin", "frank"]

#: minute -> the anomaly a detector must report in that window
INJECTED = {100: "rate_spike", 120: "new_template", 140: "error_ratio", 160: "host_burst"}


def _fill(rng: random.Random, template: str) -> str:
    return template.format(
        n=rng.randint(1, 99999),
        ms=rng.randint(1, 900),
        user=rng.choice(USERS),
        a=rng.randint(0, 255),
        b=rng.randint(1, 254),
    )


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method is fine for the small rates used here
    limit, k, p = pow(2.718281828459045, -lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def generate(minutes: int = 180, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    lines: list[tuple[datetime, str]] = []
    for minute in range(minutes):
        base = START + timedelta(minutes=minute)
        events: list[tuple[str, str, str]] = []
        for rate, level, template in NORMAL:
            scale = 1.0
            if minute == 100 and template.startswith("cache miss"):
                scale = 10.0
            if minute == 140 and level == "error":
                scale = 25.0
            for _ in range(_poisson(rng, rate * scale)):
                events.append((level, rng.choice(HOSTS), _fill(rng, template)))
        if minute == 120:
            events += [
                ("warn", "web2", f"disk /dev/sdb1 failed self-test code {rng.randint(1, 9)}")
            ] * 8
        if minute == 160:
            for _ in range(120):
                rate, level, template = rng.choice(NORMAL[:3])
                events.append((level, "web3", _fill(rng, template)))
        for level, host, message in events:
            when = base + timedelta(seconds=rng.uniform(0, 59.9))
            record = {"time": when.isoformat(), "level": level, "host": host, "msg": message}
            lines.append((when, json.dumps(record)))
    lines.sort(key=lambda item: item[0])
    return [line for _, line in lines]
