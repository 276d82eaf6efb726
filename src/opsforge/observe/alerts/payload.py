"""Alertmanager's webhook payload (version 4), parsed and checked.

::

    {"version": "4", "groupKey": "...", "status": "firing", "receiver": "opsforge",
     "groupLabels": {...}, "commonLabels": {...}, "commonAnnotations": {...},
     "externalURL": "...", "truncatedAlerts": 0,
     "alerts": [{"status": "firing", "labels": {...}, "annotations": {...},
                 "startsAt": "2026-11-24T05:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                 "generatorURL": "...", "fingerprint": "c6f5a8e6b3a9e4f1"}]}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Alert", "Notification", "PayloadError", "parse_payload"]


class PayloadError(ValueError):
    """The request body is not an Alertmanager v4 webhook payload (answered with 400)."""


@dataclass(frozen=True, slots=True)
class Alert:
    status: str  # firing | resolved
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: str
    ends_at: str
    fingerprint: str
    generator_url: str = ""

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "alertname": self.name,
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "startsAt": self.starts_at,
            "endsAt": self.ends_at,
            "fingerprint": self.fingerprint,
            "generatorURL": self.generator_url,
        }


@dataclass(frozen=True, slots=True)
class Notification:
    receiver: str
    status: str
    group_key: str
    external_url: str
    alerts: tuple[Alert, ...]


def _strings(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise PayloadError(f"{where} must be an object of strings")
    return dict(value)


def _text(data: Mapping[str, Any], key: str, where: str, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{where}{key} must be a string")
    return value


def _alert(item: Any, index: int) -> Alert:
    where = f"alerts[{index}]."
    if not isinstance(item, dict):
        raise PayloadError(f"alerts[{index}] must be an object")
    status = _text(item, "status", where)
    if status not in ("firing", "resolved"):
        raise PayloadError(f"{where}status must be firing or resolved, not {status!r}")
    fingerprint = _text(item, "fingerprint", where)
    if not fingerprint:
        raise PayloadError(f"{where}fingerprint is empty")
    return Alert(
        status=status,
        labels=_strings(item.get("labels"), f"{where}labels"),
        annotations=_strings(item.get("annotations"), f"{where}annotations"),
        starts_at=_text(item, "startsAt", where),
        ends_at=_text(item, "endsAt", where, required=False),
        fingerprint=fingerprint,
        generator_url=_text(item, "generatorURL", where, required=False),
    )


def parse_payload(body: bytes) -> Notification:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError("the payload must be a JSON object")
    if data.get("version") != "4":
        raise PayloadError(f"unsupported payload version {data.get('version')!r} (expected '4')")
    alerts = data.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("alerts must be a list")
    return Notification(
        receiver=_text(data, "receiver", "", required=False),
        status=_text(data, "status", "", required=False),
        group_key=_text(data, "groupKey", "", required=False),
        external_url=_text(data, "externalURL", "", required=False),
        alerts=tuple(_alert(item, i) for i, item in enumerate(alerts)),
    )
