"""L7 in ``policy trace``: the request (HTTP, DNS, TLS SNI) decided by the same proxies the
datapath runs (ref §1.10, §2.6-§2.8, §2.11).

The L3/L4 trace names the backend and both sides' decisions; when the trace asks about a
request, the simulated datapath replays that one connection (without recording any flow) and
reports what its proxies decided: the HTTP answer (or 403), the DNS answer (or REFUSED), a
refused SNI.  A destination given as an FQDN is first resolved through the source's DNS proxy,
which can refuse it, and the learned address then carries the name for toFQDNs selectors.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cmesh.datapath.requests import DNSQuery, DNSResponse, HTTPCall, HTTPResponse, TLSInfo
from cmesh.errors import InvalidArgument
from cmesh.l7 import HTTPRequest
from cmesh.policy.types import Protocol

if TYPE_CHECKING:
    from cmesh.datapath.peers import Mesh, Peer
    from cmesh.datapath.sim import Simulator


@dataclass(frozen=True)
class L7Query:
    http_method: str = ""
    http_path: str = ""
    http_host: str = ""
    http_headers: tuple[tuple[str, str], ...] = ()
    dns_name: str = ""
    tls_sni: str = ""

    @property
    def http(self) -> bool:
        return bool(self.http_method or self.http_path or self.http_host or self.http_headers)

    @property
    def empty(self) -> bool:
        return not (self.http or self.dns_name or self.tls_sni)

    @property
    def kind(self) -> str:
        """What :func:`evaluate` sends: the DNS query when there is one, else an HTTP(S)
        request (``tls`` only when its handshake fails)."""
        return "dns" if self.dns_name else "http"

    @classmethod
    def from_query(cls, q: dict[str, Any]) -> L7Query:
        """The request of a JSONL query (docs/trace-format.md): ``http.headers`` is an object
        or a list of ``"Name: value"`` strings."""
        http = q.get("http") or {}
        headers = http.get("headers") or {}
        if isinstance(headers, dict):
            pairs = list(headers.items())
        else:
            pairs = [str(h).partition(":")[::2] for h in headers]
            bad = [h for h in headers if ":" not in str(h)]
            if bad:
                raise InvalidArgument(
                    f"http.headers {bad[0]!r}: expected 'Name: value'",
                    hint='write {"Name": "value"} or ["Name: value"]',
                )
        return cls(
            str(http.get("method", "")),
            str(http.get("path", "")),
            str(http.get("host", "")),
            tuple((str(k).strip(), str(v).strip()) for k, v in pairs),
            str(q.get("dns_name", "")),
            str(q.get("tls_sni", "")),
        )


@dataclass
class L7Result:
    evaluated: bool
    kind: str  # http | dns | tls
    verdict: str  # FORWARDED | DROPPED | AUDIT | TIMEOUT | REFUSED
    answer: str = ""
    by: str = ""  # server | proxy
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "evaluated": self.evaluated,
            "kind": self.kind,
            "verdict": self.verdict,
            "answer": self.answer,
            "by": self.by,
            "notes": self.notes,
        }


def _sim(mesh: Mesh) -> Simulator:
    from cmesh.datapath.sim import Simulator  # the whole datapath, only when a request is asked

    return Simulator(mesh, time.time_ns())


def evaluate(
    mesh: Mesh, src: Peer, dst_ip: str, port: int, protocol: Protocol, q: L7Query
) -> L7Result:
    """Replay one request from ``src`` to ``dst_ip:port`` through the proxies on its way."""
    sim = _sim(mesh)
    if q.dns_name:
        conn = sim.connect(
            src,
            dst_ip,
            port,
            Protocol.UDP if protocol is Protocol.TCP and port == 53 else protocol,
            request=DNSQuery(q.dns_name if q.dns_name.endswith(".") else q.dns_name + "."),
        )
        if not conn.ok or not isinstance(conn.response, DNSResponse):
            return L7Result(
                True,
                "dns",
                "TIMEOUT" if conn.status.value == "timeout" else "DROPPED",
                notes=[conn.detail],
            )
        r = conn.response
        verdict = (
            "DROPPED" if r.by == "proxy" and r.rcode in ("REFUSED", "NXDOMAIN") else "FORWARDED"
        )
        return L7Result(True, "dns", verdict, f"{r.rcode} {' '.join(r.ips)}".strip(), r.by)
    req = HTTPRequest(
        q.http_method or "GET", q.http_path or "/", q.http_host or dst_ip, q.http_headers
    )
    tls = TLSInfo(q.tls_sni) if q.tls_sni else None
    conn = sim.connect(
        src,
        dst_ip,
        port,
        protocol,
        request=HTTPCall(req, tls=tls, scheme="https" if tls else "http"),
    )
    if not conn.ok:
        return L7Result(
            True,
            "http",
            "TIMEOUT" if conn.status.value == "timeout" else "REFUSED",
            notes=[conn.detail],
        )
    r = conn.response
    assert isinstance(r, HTTPResponse)
    if r.tls_failed:
        return L7Result(True, "tls", "DROPPED", "TLS handshake failed", r.by, [r.tls_failed])
    if r.reset:
        return L7Result(True, "http", "DROPPED", "connection reset", r.by, [r.reset])
    verdict = conn.l7_verdict or ("DROPPED" if r.code == 403 and r.by == "proxy" else "FORWARDED")
    return L7Result(True, "http", verdict, str(r.code), r.by)


def resolve_fqdn(mesh: Mesh, src: Peer, name: str) -> tuple[str | None, L7Result]:
    """Resolve ``name`` as ``src`` would (the DNS flow can be dropped or refused)."""
    sim = _sim(mesh)
    from cmesh.datapath.dns import resolve

    res = resolve(sim, src, name, search=not name.endswith("."))
    verdict = (
        "FORWARDED"
        if res.status == "NOERROR"
        else ("TIMEOUT" if res.status in ("TIMEOUT", "NO-NAMESERVER") else "DROPPED")
    )
    result = L7Result(
        True,
        "dns",
        verdict,
        f"{res.status} {' '.join(res.ips)}".strip(),
        "proxy" if res.status == "REFUSED" else "server",
    )
    return (res.ips[0] if res.ips else None), result
