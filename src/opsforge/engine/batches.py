"""Rolling batches, like Ansible's ``serial``.

``serial`` is a list of batch sizes; each is a host count (``2``) or a share of
all hosts of the plan (``"25%"``, rounded down, at least 1). The last size
repeats until every host has a batch: ``[1, 5, "50%"]`` over 20 hosts gives
batches of 1, 5, 10 and 4 hosts. Hosts are taken in plan order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from opsforge.errors import UsageError

__all__ = ["SerialSpec", "batch_sizes", "normalize_serial", "split_batches"]

#: One size or a list of sizes, as given by the user.
SerialSpec = int | str | Sequence[int | str]


def _parse_one(value: int | str) -> int | str:
    if isinstance(value, bool):
        raise UsageError(f"serial: not a batch size: {value!r}")
    if isinstance(value, int):
        if value < 1:
            raise UsageError(f"serial: a batch size must be at least 1, not {value}")
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            try:
                share = float(text[:-1])
            except ValueError:
                raise UsageError(f"serial: not a percentage: {value!r}") from None
            if not (0 < share <= 100) or not math.isfinite(share):
                raise UsageError(f"serial: a percentage must be in (0, 100], not {value!r}")
            return f"{share:g}%"
        try:
            number = int(text)
        except ValueError:
            raise UsageError(
                f"serial: not a batch size: {value!r} (use a count like 5 or a share like '25%')"
            ) from None
        return _parse_one(number)
    raise UsageError(f"serial: not a batch size: {value!r}")


def normalize_serial(serial: SerialSpec | None) -> tuple[int | str, ...] | None:
    """Validate a serial spec; counts become ints, shares ``"N%"`` strings.

    Raises :class:`~opsforge.errors.UsageError` for anything else. None (or an
    empty list) means one batch with every host.
    """
    if serial is None:
        return None
    values: Sequence[int | str] = [serial] if isinstance(serial, int | str) else serial
    if not values:
        return None
    return tuple(_parse_one(v) for v in values)


def _size(value: int | str, total: int) -> int:
    if isinstance(value, int):
        return value
    share = float(value[:-1])
    return max(1, int(total * share / 100))


def batch_sizes(serial: SerialSpec | None, total: int) -> list[int]:
    """Sizes of the batches for ``total`` hosts (they add up to ``total``)."""
    spec = normalize_serial(serial)
    if spec is None:
        return [total] if total else []
    sizes: list[int] = []
    left = total
    index = 0
    while left > 0:
        size = min(_size(spec[min(index, len(spec) - 1)], total), left)
        sizes.append(size)
        left -= size
        index += 1
    return sizes


def split_batches(hosts: Sequence[str], serial: SerialSpec | None) -> list[tuple[str, ...]]:
    """``hosts`` cut into consecutive batches (see the module docstring)."""
    batches: list[tuple[str, ...]] = []
    start = 0
    for size in batch_sizes(serial, len(hosts)):
        batches.append(tuple(hosts[start : start + size]))
        start += size
    return batches
