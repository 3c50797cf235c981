"""The L7 stage: mutual authentication, the HTTP proxy and the DNS proxy (ref §1.10, §1.11, §2.6-§2.8, §2.11).

When every allow that matched a connection carries L7 rules, the connection is redirected to
the proxy of the enforcing node.  The proxy decides each request against the union of those
rules: an HTTP request that no rule allows is answered ``403 Access denied`` and logged as an
L7 flow with verdict DROPPED; a DNS query for a name no rule allows is answered REFUSED (or
NXDOMAIN) by the DNS proxy.  Allowed DNS answers are learned for toFQDNs (ref §2.11).

TLS: ``serverNames`` allow-lists the SNI (a refused name fails the handshake, curl exit 35);
``terminatingTLS`` lets HTTP rules see the decrypted request; without it HTTP rules cannot
read TLS traffic and the proxy resets the connection.  A TLS context whose Secret does not
exist never matches (ref §2.7).
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

from cmesh.datapath.peers import PeerKind
from cmesh.datapath.requests import DNSQuery, DNSResponse, HTTPCall, HTTPResponse
from cmesh.datapath.verdict import Side
from cmesh.hubble import (
    DNS,
    HTTP,
    DropReason,
    Flow,
    L7FlowType,
    TCPFlags,
    TracePoint,
    TrafficDirection,
    Verdict,
    as_drop,
    as_l7,
    as_trace,
)
from cmesh.l7 import match_http, matches_pattern, name_or_pattern_matches
from cmesh.policy.rule import L7

if TYPE_CHECKING:
    from cmesh.datapath.sim import Connection, Simulator

PROXY_PORT = 15001
DNS_RCODES = {"NOERROR": 0, "SERVFAIL": 2, "NXDOMAIN": 3, "REFUSED": 5}


# -- mutual authentication (ref §1.11) -----------------------------------------------------------
def authenticated(sim: Simulator, conn: Connection) -> bool:
    """Both ends have SPIFFE identities in one trust domain (per cluster unless shared)."""
    a, b = conn.src.endpoint, conn.dst.endpoint
    if a is None or b is None or conn.dst.kind is not PeerKind.POD:
        return False
    return sim.mesh.trust_domain(a.cluster) == sim.mesh.trust_domain(b.cluster)


def auth(
    sim: Simulator,
    conn: Connection,
    side: Side,
    cluster: str,
    base: Flow,
    direction: TrafficDirection,
    timeout: float,
) -> bool:
    """AUTH_REQUIRED drops until the handshake succeeds; False when it never does."""
    mode = side.decision.auth
    if mode not in ("required", "test-always-fail"):
        return True
    ok = mode == "required" and authenticated(sim, conn)
    reason = DropReason.AUTH_REQUIRED
    if ok:
        sim.emit(cluster, as_drop(base, reason, direction))
        sim.tick(1.0)  # the first packet waits for the handshake; the retransmission passes
        conn.elapsed += 1.0
        return True
    from cmesh.datapath.sim import Status

    conn.status = Status.TIMEOUT
    conn.elapsed = sim.retransmit(cluster, as_drop(base, reason, direction), conn.protocol, timeout)
    why = (
        "test-always-fail"
        if mode == "test-always-fail"
        else "no shared trust domain between the clusters (mutual auth is not compatible with ClusterMesh by default)"
    )
    conn.detail = f"dropped: AUTH_REQUIRED ({why})"
    return False


# -- secrets ------------------------------------------------------------------------------------
def secret_value(sim: Simulator, cluster: str, ref: str) -> str | None:
    ns, _, name = ref.partition("/")
    obj = sim.mesh.views[cluster].inventory.objects.get(("Secret", ns or "default", name))
    if obj is None:
        return None
    if obj.get("stringData"):
        return str(next(iter(obj["stringData"].values())))
    data = obj.get("data") or {}
    if data:
        return base64.b64decode(next(iter(data.values()))).decode(errors="replace")
    return ""


def secret_exists(sim: Simulator, cluster: str, namespace: str, name: str) -> bool:
    return ("Secret", namespace or "default", name) in sim.mesh.views[cluster].inventory.objects


# -- redirect --------------------------------------------------------------------------------------
def redirect(
    sim: Simulator,
    conn: Connection,
    side: Side,
    cluster: str,
    base: Flow,
    direction: TrafficDirection,
) -> bool:
    """Run the proxy of ``side`` if L7 applies; True when the proxy answered (the request ends here)."""
    d = side.decision
    tls_entries = [
        me.entry for me in d.entries if me.entry.server_names or me.entry.terminating_tls
    ]
    if d.l7 is None and not tls_entries and d.l7_audit is None:
        return False
    req = conn.request
    sim.emit(cluster, as_trace(base, TracePoint.TO_PROXY, direction, proxy_port=PROXY_PORT))
    conn.proxied.append(cluster)
    if isinstance(req, DNSQuery):
        return _dns_proxy(sim, conn, d.l7 or (), cluster, base, direction, d.l7_audit)
    assert isinstance(req, HTTPCall)
    if req.tls is not None and tls_entries:
        names = [n for e in tls_entries for n in e.server_names]
        if names and not any(matches_pattern(n, req.tls.sni) for n in names):
            conn.response = HTTPResponse(
                0,
                tls_failed=f"SNI {req.tls.sni} is not in serverNames {', '.join(names)}",
                by="proxy",
            )
            return True
        missing = [
            e.terminating_tls
            for e in tls_entries
            if e.terminating_tls
            and e.terminating_tls.secret_name
            and not secret_exists(
                sim, cluster, e.terminating_tls.secret_namespace, e.terminating_tls.secret_name
            )
        ]
        if missing and all(e.terminating_tls in missing for e in tls_entries if e.terminating_tls):
            t = missing[0]
            conn.response = HTTPResponse(
                0,
                tls_failed=f"terminatingTLS secret {t.secret_namespace}/{t.secret_name} not found: the rule never matches",
                by="proxy",
            )
            return True
    rules = [r for l7 in d.l7 or () for r in l7.http]
    if not rules and d.l7_audit is None:
        return False
    terminating = any(e.terminating_tls for e in tls_entries)
    if req.tls is not None and not terminating and rules:
        conn.response = HTTPResponse(
            0,
            reset="HTTP rules cannot read TLS traffic without terminatingTLS; the proxy reset the connection",
            by="proxy",
        )
        return True
    record = HTTP(
        method=req.request.method,
        url=req.url,
        protocol=req.request.protocol,
        headers=dict(req.request.headers),
    )
    secret = lambda ref: secret_value(sim, cluster, ref)  # noqa: E731
    m = match_http(rules, req.request, secret) if rules else None
    if m is not None and not m.allowed:
        sim.emit(
            cluster, as_l7(base, record, L7FlowType.REQUEST, direction, verdict=Verdict.DROPPED)
        )
        conn.response = HTTPResponse(
            403, "Access denied\r\n", {"content-type": "text/plain", "server": "envoy"}, by="proxy"
        )
        conn.l7_verdict = "DROPPED"
        return True
    verdict = Verdict.FORWARDED
    if d.l7_audit is not None:
        audit_rules = [r for l7 in d.l7_audit for r in l7.http]
        if audit_rules and not match_http(audit_rules, req.request, secret).allowed:
            verdict = Verdict.AUDIT
            conn.l7_verdict = "AUDIT"
    sim.emit(cluster, as_l7(base, record, L7FlowType.REQUEST, direction, verdict=verdict))
    return False


def _dns_proxy(
    sim: Simulator,
    conn: Connection,
    l7s: tuple[L7, ...],
    cluster: str,
    base: Flow,
    direction: TrafficDirection,
    l7_audit: tuple[L7, ...] | None = None,
) -> bool:
    """The DNS proxy: a query no rule allows is refused; one only audited rules would refuse
    passes as AUDIT (per-policy audit, ref §2.12)."""
    q = conn.request
    assert isinstance(q, DNSQuery)
    name = q.name if q.name.endswith(".") else q.name + "."

    def allows(l7s: tuple[L7, ...]) -> bool:
        rules = [r for l7 in l7s for r in l7.dns]
        return not rules or any(
            name_or_pattern_matches(r.match_name, r.match_pattern, name) for r in rules
        )

    allowed = allows(l7s)
    rec = DNS(query=name, qtypes=(q.qtype,), observation_source="proxy")
    if not allowed:
        rcode = sim.mesh.dns_reject_code(cluster)
        sim.emit(cluster, as_l7(base, rec, L7FlowType.REQUEST, direction, verdict=Verdict.DROPPED))
        sim.emit(
            cluster,
            as_l7(
                _reply(base),
                DNS(
                    query=name,
                    rcode=DNS_RCODES[rcode],
                    qtypes=(q.qtype,),
                    observation_source="proxy",
                ),
                L7FlowType.RESPONSE,
                direction,
                verdict=Verdict.FORWARDED,
            ),
        )
        conn.response = DNSResponse(rcode, by="proxy")
        conn.l7_verdict = "DROPPED"
        return True
    verdict = Verdict.FORWARDED
    if l7_audit is not None and not allows(l7_audit):
        verdict = Verdict.AUDIT
        conn.l7_verdict = "AUDIT"
    sim.emit(cluster, as_l7(base, rec, L7FlowType.REQUEST, direction, verdict=verdict))
    return False


def _reply(base: Flow) -> Flow:
    """The same flow seen in the other direction."""
    ip = base.IP
    l4 = base.l4
    swapped_l4: object = l4
    if hasattr(l4, "flags"):
        swapped_l4 = type(l4)(l4.destination_port, l4.source_port, TCPFlags.of("ACK"))  # type: ignore[union-attr,call-arg]
    elif hasattr(l4, "destination_port"):
        swapped_l4 = type(l4)(l4.destination_port, l4.source_port)  # type: ignore[union-attr,call-arg]
    return base.with_(
        IP=type(ip)(ip.destination, ip.source) if ip else None,  # type: ignore[call-arg]
        l4=swapped_l4,
        source=base.destination,
        destination=base.source,
        source_service=base.destination_service,
        destination_service=None,
        source_names=base.destination_names,
        destination_names=base.source_names,
    )


# -- servers --------------------------------------------------------------------------------------
def serve(sim: Simulator, conn: Connection) -> None:
    """The destination answers the request (HTTP echo, or the cluster DNS)."""
    req = conn.request
    if isinstance(req, DNSQuery):
        from cmesh.datapath.dns import answer

        conn.response = answer(sim, conn, req)
    elif isinstance(req, HTTPCall):
        conn.response = _http_answer(sim, conn, req)
    _log_responses(sim, conn)


def _http_answer(sim: Simulator, conn: Connection, req: HTTPCall) -> HTTPResponse:
    ep = conn.dst.endpoint
    if ep is not None and conn.dst.kind is PeerKind.POD:
        who = {"cluster": ep.cluster, "namespace": ep.namespace, "pod": ep.name, "ip": ep.ip}
    else:
        who = {"host": conn.dst.names[0] if conn.dst.names else conn.dst.ip, "ip": conn.dst.ip}
    body = (
        json.dumps(
            {
                **who,
                "method": req.request.method,
                "path": req.request.path,
                "host": req.request.host,
            },
            separators=(",", ":"),
        )
        + "\n"
    )
    if req.request.method == "HEAD":
        body = ""
    return HTTPResponse(200, body, {"content-type": "application/json", "server": "cmesh-echo"})


def _log_responses(sim: Simulator, conn: Connection) -> None:
    """Each proxy that saw the request logs the response too (HTTP code / DNS answer)."""
    if not conn.proxied or conn.response is None:
        return
    req = conn.request
    ep = conn.src.endpoint
    assert ep is not None
    for cluster in conn.proxied:
        node = (
            ep.node
            if cluster == ep.cluster
            else (conn.dst.endpoint.node if conn.dst.endpoint else "")
        )
        base = sim.base(
            cluster,
            node,
            conn.src,
            conn.dst,
            sim._l4(conn.protocol, conn.sport, conn.port),
            conn.hop,
        )
        direction = TrafficDirection.EGRESS if cluster == ep.cluster else TrafficDirection.INGRESS
        if isinstance(req, HTTPCall) and isinstance(conn.response, HTTPResponse):
            rec = HTTP(
                code=conn.response.code,
                method=req.request.method,
                url=req.url,
                protocol=req.request.protocol,
            )
            sim.emit(
                cluster,
                as_l7(_reply(base), rec, L7FlowType.RESPONSE, direction, latency_ns=1_000_000),
            )
        elif isinstance(req, DNSQuery) and isinstance(conn.response, DNSResponse):
            name = req.name if req.name.endswith(".") else req.name + "."
            r = conn.response
            rec2 = DNS(
                query=name,
                ips=r.ips,
                ttl=r.ttl,
                cnames=r.cnames,
                rcode=DNS_RCODES.get(r.rcode, 0),
                qtypes=(req.qtype,),
                rrtypes=(req.qtype,) if r.ips else (),
                observation_source="proxy",
            )
            sim.emit(cluster, as_l7(_reply(base), rec2, L7FlowType.RESPONSE, direction))
            if cluster == ep.cluster and r.ips:
                sim.learn(ep, name, r.ips, r.ttl)
