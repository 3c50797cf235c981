"""Check a connectivity test spec against a mesh: expand each expectation, decide each flow.

Expansion makes every expectation concrete, the way a live datapath would run it: each source
pod the ``from`` selector covers, towards each destination — every pod of a selector; every
backend a Service's load balancer in the source's cluster may pick (ref §2.4: policy sees the
backend and its target port; a global service's remote backends too, ref §3.7); the address a
name resolves to (the world DNS of the mesh, else an address from 198.18.0.0/15 that the DNS
proxy is taken to have learned, ref §2.11); an address of a CIDR — on each port.

Each flow is decided by :func:`cmesh.datapath.decide` (egress then ingress, ref §2.4) with its
explanation.  An HTTP request or DNS query is then matched against the L7 rules the verdict
carries, as the simulated proxies match it (:mod:`cmesh.datapath.proxy`: the :mod:`cmesh.l7`
matchers, ``headerMatches`` secrets read from the enforcing cluster, its DNS reject code;
ref §2.6-§2.8): a request no rule admits is denied (HTTP 403, DNS REFUSED or NXDOMAIN).

The request is not sent through the simulator itself (:mod:`cmesh.datapath.l7trace`, which
``policy trace`` uses): a spec asks what policy allows, and the simulator also answers what
policy does not decide — whether the pod listens on the port (it refuses before the ingress
proxy runs), whether a world address answers (a spec's FQDN destination is an address no host
answers) — and its answer carries no reason for a 403.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial

from cmesh.analysis.spec import Coverage, Expectation, HTTPCheck, Selector, Spec
from cmesh.datapath import FlowVerdict, Mesh, Peer, PeerKind, Trace, decide
from cmesh.datapath.proxy import secret_value
from cmesh.datapath.sim import Simulator
from cmesh.datapath.tracer import backend_peer
from cmesh.l7 import HTTPRequest, match_http, name_or_pattern_matches
from cmesh.policy import Endpoint, Protocol

SYNTHETIC_NET = ipaddress.ip_network("198.18.0.0/15")  # RFC 2544: never a real destination


@dataclass(frozen=True)
class FlowResult:
    """One concrete flow of an expectation, and what the mesh does with it."""

    src: str
    dst: str
    protocol: Protocol
    port: int
    allowed: bool
    verdict: str  # FORWARDED, AUDIT, DROPPED, or the L7 answer (HTTP 403, DNS REFUSED|NXDOMAIN)
    trace: Trace | None = None
    l7: str = ""

    @property
    def flow(self) -> str:
        return f"{self.src} -> {self.dst} {self.protocol.value}/{self.port}"


@dataclass
class Result:
    name: str
    kind: str  # expectation | coverage
    expect: str  # allow | deny | selected
    flows: list[FlowResult] = field(default_factory=list)
    failures: list[FlowResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # failures that are not flows

    @property
    def passed(self) -> bool:
        return not self.failures and not self.problems


def select_pods(mesh: Mesh, sel: Selector, source_cluster: str = "") -> list[Endpoint]:
    """The pods a selector covers; ``cluster: same`` in a destination means the source's."""
    clusters = tuple(source_cluster if c == "same" else c for c in sel.clusters)
    out = []
    want_labels = dict(sel.labels)
    parts = sel.pod.split("/") if sel.pod else []
    for cname in sorted(mesh.views):
        if clusters and cname not in clusters:
            continue
        for ep in mesh.views[cname].endpoints.values():
            if sel.namespaces and ep.namespace not in sel.namespaces:
                continue
            if any(ep.pod.labels.get(k) != v for k, v in want_labels.items()):
                continue
            if parts:
                ns_ok = len(parts) == 1 or ep.namespace == parts[-2]
                cl_ok = len(parts) < 3 or ep.cluster == parts[0]
                if not (ns_ok and cl_ok and parts[-1] in (ep.name, ep.pod.workload_name)):
                    continue
            out.append(ep)
    return sorted(out, key=lambda e: e.ref)


def _pod(ep: Endpoint) -> Peer:
    return Peer(PeerKind.POD, ep.ip, ep.cluster, endpoint=ep)


class Checker:
    """Evaluates specs against one mesh (learning FQDN addresses as a DNS proxy would)."""

    def __init__(self, mesh: Mesh) -> None:
        self.mesh = mesh
        self._fqdn_ips: dict[str, str] = {}

    def fqdn_ip(self, cluster: str, name: str) -> str:
        ip = self._fqdn_ips.get(name)
        if ip is None:
            known = self.mesh.hosts.get(name) or self.mesh.hosts.get(name.rstrip("."))
            ip = known[0] if known else str(SYNTHETIC_NET[len(self._fqdn_ips) + 1])
            self._fqdn_ips[name] = ip
        self.mesh.views[cluster].learn_fqdn(name, [ip])
        return ip

    def destinations(
        self, e: Expectation, src: Endpoint
    ) -> Iterator[tuple[Peer, Protocol, int, str]]:
        """(peer, protocol, port, label) for every concrete destination of ``e`` from ``src``."""
        t = e.dst
        if t.pods is not None:
            for ep in select_pods(self.mesh, t.pods, src.cluster):
                if ep.ip != src.ip:
                    for proto, port in e.ports:
                        yield _pod(ep), proto, port, ep.ref
            return
        if t.service:
            ns, _, name = t.service.rpartition("/")
            lb = self.mesh.views[src.cluster].lb.get((ns or "default", name))
            for proto, port in e.ports:
                sp = lb.port(port, proto.value) if lb else None
                if lb is None or sp is None:
                    continue
                for b in lb.backends_for(sp):
                    peer = backend_peer(self.mesh, b)
                    label = f"svc {ns or 'default'}/{name}:{port} -> {peer.display}"
                    yield peer, proto, b.port, label
            return
        if t.fqdn:
            ip = self.fqdn_ip(src.cluster, t.fqdn)
            for proto, port in e.ports:
                yield self.mesh.resolve(src.cluster, ip), proto, port, f"{t.fqdn} ({ip})"
            return
        net = ipaddress.ip_network(t.cidr, strict=False)
        ip = str(net.network_address if net.num_addresses == 1 else net[1])
        for proto, port in e.ports:
            yield self.mesh.resolve(src.cluster, ip), proto, port, ip

    def flow(
        self, e: Expectation, src: Endpoint, dst: Peer, proto: Protocol, port: int, label: str
    ) -> FlowResult:
        v = decide(self.mesh, _pod(src), dst, proto, port, explain=True)
        allowed = v.verdict.name != "DROPPED"
        verdict, why = v.verdict.name, ""
        if allowed and (e.http is not None or e.dns):
            verdict, why = l7_answer(self.mesh, v, e.http, e.dns)
            allowed = not why
        return FlowResult(src.ref, label, proto, port, allowed, verdict, Trace(v, None), why)

    def expectation(self, e: Expectation) -> Result:
        r = Result(e.name, "expectation", "allow" if e.expect_allow else "deny")
        sources = select_pods(self.mesh, e.src)
        if not sources:
            r.problems.append("`from` selects no pod: the expectation covers nothing")
            return r
        for src in sources:
            for peer, proto, port, label in self.destinations(e, src):
                f = self.flow(e, src, peer, proto, port, label)
                r.flows.append(f)
                if f.allowed != e.expect_allow:
                    r.failures.append(f)
        if not r.flows:
            r.problems.append(
                f"`to` ({e.dst}) gives no destination on {_ports(e)}: the expectation covers nothing"
            )
        return r

    def coverage(self, c: Coverage) -> Result:
        r = Result(c.name, "coverage", "selected")
        pods = select_pods(self.mesh, c.pods)
        if not pods:
            r.problems.append("`pods` selects no pod")
        for ep in pods:
            engine = self.mesh.views[ep.cluster].engine
            rules = engine.selected_rules(ep.identity)
            for d in c.directions:
                if not any(rule.has_section(d) or rule.default_deny(d) for rule in rules):
                    r.problems.append(
                        f"{ep.ref} (identity {ep.identity}) is selected by no {d.value} policy"
                    )
        return r

    def run(self, spec: Spec) -> list[Result]:
        return [*map(self.expectation, spec.expectations), *map(self.coverage, spec.coverage)]


def _ports(e: Expectation) -> str:
    return ", ".join(f"{p}/{proto.value}" for proto, p in e.ports)


def l7_answer(mesh: Mesh, v: FlowVerdict, http: HTTPCheck | None, dns: str) -> tuple[str, str]:
    """The proxies' answer to the request: (verdict, why it was denied or "")."""
    # the proxy's own secret lookup: a Simulator only lends it the mesh (nothing is simulated)
    sim = Simulator(mesh, 0)
    for name in ("egress", "ingress"):
        side = getattr(v, name)
        if side is None or side.decision.l7 is None:
            continue
        l7s = side.decision.l7
        if http is not None:
            rules = [r for l7 in l7s for r in l7.http]
            if rules:
                req = HTTPRequest(http.method, http.path, http.host, http.headers)
                m = match_http(rules, req, partial(secret_value, sim, side.cluster))
                if not m.allowed:
                    return "HTTP 403", f"the {name} proxy answers 403: " + "; ".join(m.misses)
        if dns:
            rules = [r for l7 in l7s for r in l7.dns]
            q = dns if dns.endswith(".") else dns + "."
            if rules and not any(
                name_or_pattern_matches(r.match_name, r.match_pattern, q) for r in rules
            ):
                allowed = ", ".join(str(r) for r in rules)
                rcode = mesh.dns_reject_code(side.cluster)
                return (
                    f"DNS {rcode}",
                    f"the {name} DNS proxy answers {rcode} for {q}: rules allow only {allowed}",
                )
    return "FORWARDED", ""
