"""Push mode: send the agent's exposition to a Prometheus Pushgateway.

``PUT <url>/metrics/job/<job>/instance/<instance>`` replaces that group's metrics each
time, so a metric that disappears from the agent disappears from the gateway too.
"""

from __future__ import annotations

import base64
import socket
import urllib.error
import urllib.parse
import urllib.request

from opsforge.observe.agent.exposition import TEXT_CONTENT_TYPE
from opsforge.observe.errors import PushError

__all__ = ["group_url", "push_exposition"]

_TIMEOUT = 10.0


def _key(label: str, value: str) -> str:
    """One grouping-key pair; a value with ``/`` (or empty) goes as ``label@base64/...``,
    the Pushgateway's own encoding for values a path cannot carry."""
    if "/" in value or not value:
        encoded = base64.urlsafe_b64encode(value.encode()).decode() or "="
        return f"{label}@base64/{encoded}"
    return f"{label}/{urllib.parse.quote(value, safe='')}"


def group_url(url: str, job: str, instance: str | None = None) -> str:
    """The grouping-key URL: ``<url>/metrics/job/<job>/instance/<instance>``."""
    host = instance or socket.gethostname()
    return f"{url.rstrip('/')}/metrics/{_key('job', job)}/{_key('instance', host)}"


def push_exposition(url: str, body: bytes, *, method: str = "PUT") -> None:
    """Send ``body`` (text format 0.0.4) to the group URL; :class:`PushError` on failure."""
    request = urllib.request.Request(
        url, data=body, method=method, headers={"Content-Type": TEXT_CONTENT_TYPE}
    )
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace").strip()[:300]
        raise PushError(f"push to {url} failed: HTTP {exc.code}: {detail}") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PushError(f"push to {url} failed: {reason}") from None
