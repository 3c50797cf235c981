"""What a client sends and what it gets back, as the proxies and servers see them."""

from __future__ import annotations

from dataclasses import dataclass, field

from cmesh.l7 import HTTPRequest


@dataclass(frozen=True, slots=True)
class TLSInfo:
    """A TLS ClientHello as far as policy cares: the server name (SNI)."""

    sni: str


@dataclass(frozen=True, slots=True)
class HTTPCall:
    request: HTTPRequest
    body: bytes = b""
    tls: TLSInfo | None = None
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.request.host}{self.request.path}"


@dataclass(frozen=True, slots=True)
class DNSQuery:
    name: str
    qtype: str = "A"


Request = HTTPCall | DNSQuery


@dataclass
class HTTPResponse:
    code: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    by: str = "server"  # "server" | "proxy"
    tls_failed: str = ""  # why the TLS handshake failed (curl exit 35)
    reset: str = ""  # why the connection was reset (curl exit 56)


@dataclass
class DNSResponse:
    rcode: str  # NOERROR | NXDOMAIN | REFUSED | SERVFAIL
    ips: tuple[str, ...] = ()
    ttl: int = 30
    cnames: tuple[str, ...] = ()
    by: str = "server"


Response = HTTPResponse | DNSResponse
