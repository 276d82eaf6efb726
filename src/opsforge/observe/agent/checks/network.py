"""Network checks: HTTP(S) endpoint, TCP connect, TLS certificate expiry."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import ClassVar

from opsforge.observe.agent.checks.base import CheckResult, timed
from opsforge.observe.config_nodes import Section

__all__ = ["HttpCheck", "TcpCheck", "TlsCheck"]


def _host_port(section: Section, key: str, default_port: int | None) -> tuple[str, int]:
    address = section.required_text(key)
    host, sep, port = address.rpartition(":")
    if not sep:
        if default_port is None:
            raise section.error(f"{key!r} must be HOST:PORT, not {address!r}", key)
        return address, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise section.error(f"{key!r} has a bad port: {address!r}", key)
    return host.strip("[]"), int(port)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass(frozen=True, slots=True)
class HttpCheck:
    """GET ``url``; passes when the status is in ``expect_status`` (default 200-399)."""

    kind: ClassVar[str] = "http"
    name: str
    url: str
    timeout: float
    expect_status: tuple[int, ...]
    verify_tls: bool
    follow_redirects: bool

    @classmethod
    def from_config(cls, name: str, section: Section) -> HttpCheck:
        url = section.required_text("url")
        if not url.startswith(("http://", "https://")):
            raise section.error(f"'url' must start with http:// or https://, not {url!r}", "url")
        codes = section.texts("expect_status")
        if not all(c.isdigit() for c in codes):
            raise section.error("'expect_status' must be a list of status codes", "expect_status")
        return cls(
            name=name,
            url=url,
            timeout=section.number("timeout", 5.0, minimum=0.001),
            expect_status=tuple(int(c) for c in codes) or tuple(range(200, 400)),
            verify_tls=section.flag("verify_tls", True),
            follow_redirects=section.flag("follow_redirects", True),
        )

    def run(self) -> CheckResult:
        context = ssl.create_default_context()
        if not self.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        handlers: list[urllib.request.BaseHandler] = [urllib.request.HTTPSHandler(context=context)]
        if not self.follow_redirects:
            handlers.append(_NoRedirect())
        opener = urllib.request.build_opener(*handlers)
        request = urllib.request.Request(self.url, headers={"User-Agent": "opsforge-agent"})
        started = time.perf_counter()
        try:
            with opener.open(request, timeout=self.timeout) as response:
                response.read(65536)
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (OSError, ValueError) as exc:
            return CheckResult(ok=False, duration=timed(started), error=str(exc))
        return CheckResult(
            ok=status in self.expect_status,
            duration=timed(started),
            values={"http_status_code": ("HTTP status code of the response.", status)},
        )


@dataclass(frozen=True, slots=True)
class TcpCheck:
    """Connect to ``address`` (HOST:PORT); passes when the connection is accepted."""

    kind: ClassVar[str] = "tcp"
    name: str
    host: str
    port: int
    timeout: float

    @classmethod
    def from_config(cls, name: str, section: Section) -> TcpCheck:
        host, port = _host_port(section, "address", None)
        return cls(name, host, port, section.number("timeout", 5.0, minimum=0.001))

    def run(self) -> CheckResult:
        started = time.perf_counter()
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout):
                pass
        except OSError as exc:
            return CheckResult(ok=False, duration=timed(started), error=str(exc))
        return CheckResult(ok=True, duration=timed(started))


@dataclass(frozen=True, slots=True)
class TlsCheck:
    """Read the certificate ``address`` (HOST:PORT, default port 443) serves; passes while it
    is valid for more than ``min_days``. The certificate is read even when it would not
    verify, so an expired or self-signed certificate still reports its expiry."""

    kind: ClassVar[str] = "tls"
    name: str
    host: str
    port: int
    server_name: str
    timeout: float
    min_days: float

    @classmethod
    def from_config(cls, name: str, section: Section) -> TlsCheck:
        host, port = _host_port(section, "address", 443)
        return cls(
            name,
            host,
            port,
            section.text("server_name", host) or host,
            section.number("timeout", 5.0, minimum=0.001),
            section.number("min_days", 0.0),
        )

    def run(self) -> CheckResult:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        started = time.perf_counter()
        try:
            with (
                socket.create_connection((self.host, self.port), timeout=self.timeout) as sock,
                context.wrap_socket(sock, server_hostname=self.server_name) as tls,
            ):
                der = tls.getpeercert(binary_form=True)
        except (OSError, ssl.SSLError) as exc:
            return CheckResult(ok=False, duration=timed(started), error=str(exc))
        if not der:
            return CheckResult(ok=False, duration=timed(started), error="no certificate")
        from cryptography import x509  # only hosts with a TLS check need it

        cert = x509.load_der_x509_certificate(der)
        not_after = cert.not_valid_after_utc.timestamp()
        left = not_after - dt.datetime.now(dt.UTC).timestamp()
        return CheckResult(
            ok=left > self.min_days * 86400,
            duration=timed(started),
            values={
                "tls_cert_not_after_seconds": (
                    "Expiry of the served certificate, in unixtime.",
                    not_after,
                )
            },
        )
