"""``policy trace``: name the two ends of a flow, translate services, and decide it.

Ends are written ``NS/POD`` (a pod of the context's cluster), ``CLUSTER/NS/POD``, an IP, or for
the destination ``svc:NS/NAME`` (translated to one backend, deterministically per flow, as the
load balancer would before policy, ref §2.4).  Queries in JSONL use the same resolution.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from cmesh.cluster import ServiceInfo
from cmesh.datapath.peers import Mesh, Peer, PeerKind
from cmesh.datapath.verdict import FlowVerdict, decide
from cmesh.errors import InvalidArgument, NotFound
from cmesh.policy.types import Direction, Protocol, Verdict
from cmesh.services import Backend


@dataclass(frozen=True)
class ServiceHop:
    service: ServiceInfo
    port: int
    backend: Peer
    target_port: int
    backends: int


@dataclass(frozen=True)
class Trace:
    flow: FlowVerdict
    service: ServiceHop | None
    l7: Any = None  # cmesh.datapath.l7trace.L7Result when the trace asked about a request
    dns: Any = None  # the resolution of an FQDN destination


def find_pod(mesh: Mesh, cluster: str, namespace: str, name: str) -> Peer:
    view = mesh.view(cluster)
    ep = view.endpoints.get((namespace, name))
    if ep is None:
        pods = [n for (ns, n) in view.endpoints if ns == namespace]
        prefix = [n for n in pods if n.startswith(name)]
        # A workload name picks its first pod, as `kubectl exec deploy/NAME` does.
        owned = sorted(n for n in pods if view.endpoints[(namespace, n)].pod.workload_name == name)
        if owned:
            ep = view.endpoints[(namespace, owned[0])]
        elif len(prefix) == 1:
            ep = view.endpoints[(namespace, prefix[0])]
        else:
            hint = (
                f"pods in {cluster}/{namespace}: " + ", ".join(sorted(pods)[:8])
                if pods
                else f"namespace {namespace} has no pods in {cluster}"
            )
            if len(prefix) > 1:
                hint = "several pods start with that name: " + ", ".join(sorted(prefix)[:8])
            raise NotFound(f'pod "{namespace}/{name}" not found in cluster {cluster}', hint=hint)
    return Peer(PeerKind.POD, ep.ip, cluster, endpoint=ep)


def parse_end(mesh: Mesh, text: str, context: str) -> Peer:
    text = text.strip()
    if text.startswith("svc:"):
        ns, _, name = text[4:].rpartition("/")
        return find_service(mesh, context, ns or "default", name)
    try:
        ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        return mesh.resolve(context, text)
    parts = text.split("/")
    if len(parts) == 2:
        return find_pod(mesh, context, parts[0], parts[1])
    if len(parts) == 3:
        return find_pod(mesh, parts[0], parts[1], parts[2])
    raise InvalidArgument(
        f"cannot read {text!r} as a flow end",
        hint="write NS/POD, CLUSTER/NS/POD, an IP address or svc:NS/NAME",
    )


def find_service(mesh: Mesh, cluster: str, namespace: str, name: str) -> Peer:
    services = mesh.view(cluster).inventory.services
    svc = services.get((namespace, name))
    if svc is None:
        names = sorted(n for ns, n in services if ns == namespace)
        raise NotFound(
            f'service "{namespace}/{name}" not found in cluster {cluster}',
            hint=f"services in {cluster}/{namespace}: " + ", ".join(names[:8])
            if names
            else f"namespace {namespace} has no services in {cluster}",
        )
    return Peer(PeerKind.SERVICE, svc.cluster_ip, cluster, service=svc)


def backend_peer(mesh: Mesh, b: Backend) -> Peer:
    """The pod behind a backend address (its own cluster's endpoint), the node (the
    ``kubernetes`` Service's backend is the apiserver on the control plane, ref §1.4), or the
    bare address."""
    ep = mesh.views[b.cluster].by_ip.get(b.ip) if b.cluster in mesh.views else None
    if ep is not None:
        return Peer(PeerKind.POD, b.ip, b.cluster, endpoint=ep)
    node = mesh.node_at(b.ip)
    if node is not None:
        return Peer(PeerKind.NODE, b.ip, node[0], node=node[1])
    return Peer(PeerKind.WORLD, b.ip, b.cluster, names=mesh.names_of(b.ip))


def translate(
    mesh: Mesh, src: Peer, dst: Peer, protocol: Protocol, port: int, sport: int = 0
) -> ServiceHop:
    """Service translation before policy (ref §2.4): pick a backend the way the LB would."""
    assert dst.service is not None
    svc = dst.service
    lb = mesh.views[dst.cluster].lb.get((svc.namespace, svc.name))
    sp = lb.port(port, protocol.value) if lb else None
    if lb is None or sp is None:
        ports = ", ".join(f"{p.port}/{p.protocol}" for p in svc.ports) or "none"
        raise InvalidArgument(
            f"service {svc.namespace}/{svc.name} has no port {port}/{protocol.value}",
            hint=f"its ports: {ports}",
        )
    backend = lb.select(sp, f"{src.ip}:{sport}|{svc.namespace}/{svc.name}|{sp.port}")
    if backend is None:
        raise NotFound(
            f"service {svc.namespace}/{svc.name} has no backends",
            hint="no ready pod matches its selector (SERVICE_BACKEND_NOT_FOUND)",
        )
    return ServiceHop(
        svc,
        sp.port,
        backend_peer(mesh, backend),
        backend.port,
        len(lb.backends_for(sp)),
    )


def trace(
    mesh: Mesh,
    src: Peer,
    dst: Peer,
    protocol: Protocol,
    port: int,
    *,
    explain: bool = True,
    l7: Any = None,
) -> Trace:
    """Service translation, then both sides' policy; with ``l7`` (an ``L7Query``) the request
    is also decided by the proxies on its way."""
    hop = None
    if dst.kind is PeerKind.SERVICE and dst.service is not None:
        hop = translate(mesh, src, dst, protocol, port)
        dst, port = hop.backend, hop.target_port
    flow = decide(mesh, src, dst, protocol, port, explain=explain)
    if explain:
        flow = _with_conflict_notes(mesh, flow, src, dst, protocol, port)
    result = None
    if l7 is not None and not l7.empty and src.endpoint is not None:
        from cmesh.datapath.l7trace import L7Result, evaluate

        if flow.verdict is Verdict.DROPPED:
            result = L7Result(
                False, l7.kind, "DROPPED", notes=["the connection is dropped at L3/L4"]
            )
        else:
            result = evaluate(mesh, src, dst.ip, port, protocol, l7)
    return Trace(flow, hop, result)


def _with_conflict_notes(
    mesh: Mesh, flow: FlowVerdict, src: Peer, dst: Peer, protocol: Protocol, port: int
) -> FlowVerdict:
    """A side whose endpoint Cilium cannot compute a policy for (two L7 parsers on this
    port, ref §2.6) is named in a note: there the real datapath keeps the previous policy."""
    from cmesh.policy.conflicts import l7_conflicts

    notes = []
    for peer, direction in ((src, Direction.EGRESS), (dst, Direction.INGRESS)):
        ep = peer.endpoint
        if ep is None or ep.cluster not in mesh.views:
            continue
        engine = mesh.views[ep.cluster].engine
        for c in l7_conflicts(engine.selector_policy(ep.identity)):
            if c.direction is direction and c.protocol is protocol and c.covers(port):
                notes.append(
                    f"{ep.cluster}/{ep.namespace}/{ep.name}: {c}; {c.consequence}, which keeps "
                    "its previous policy (ref §2.6)"
                )
    return replace(flow, notes=(*flow.notes, *notes)) if notes else flow


def trace_fqdn(
    mesh: Mesh, src: Peer, name: str, protocol: Protocol, port: int, *, l7: Any = None
) -> Trace:
    """A flow to a name: the DNS lookup through the source's DNS proxy, then the connection to
    the address it learned (which now carries the name for toFQDNs, ref §2.11)."""
    from cmesh.datapath.l7trace import resolve_fqdn

    if not name.strip(". "):
        raise InvalidArgument(
            "fqdn: needs a DNS name", hint="e.g. --to fqdn:api.example.com, or an IP address"
        )
    if src.endpoint is None:
        raise InvalidArgument(
            f"{src.display} is not a pod: a name is resolved by a pod, through its DNS proxy",
            hint="trace from a pod (NS/POD or CLUSTER/NS/POD), or give the destination's IP",
        )
    ip, dns = resolve_fqdn(mesh, src, name)
    if ip is None:
        raise NotFound(
            f"{name} did not resolve from {src.display}: {dns.answer}",
            hint="the DNS lookup was dropped or refused; trace it with --dns-name",
        )
    t = trace(mesh, src, mesh.resolve(src.cluster, ip), protocol, port, l7=l7)
    return replace(t, dns=dns)


def query_end(mesh: Mesh, q: Mapping[str, Any], context: str, *, dst: bool) -> Peer:
    """A JSONL query end: {cluster,namespace,pod} | {cluster,node} | {ip} | {cluster,namespace,service}."""
    cluster = q.get("cluster") or context
    if "ip" in q:
        return mesh.resolve(cluster, str(q["ip"]))
    if "pod" in q:
        return find_pod(mesh, cluster, q.get("namespace", "default"), q["pod"])
    if "node" in q:
        nodes = mesh.view(cluster).inventory.nodes
        node = nodes.get(q["node"])
        if node is None:
            raise NotFound(
                f'node "{q["node"]}" not found in cluster {cluster}',
                hint=f"nodes of {cluster}: " + ", ".join(sorted(nodes)),
            )
        return Peer(PeerKind.NODE, node.ip, cluster, node=node)
    if dst and "service" in q:
        return find_service(mesh, cluster, q.get("namespace", "default"), q["service"])
    raise InvalidArgument(
        f"cannot read flow end {dict(q)!r}",
        hint='use {"cluster","namespace","pod"}, {"cluster","node"}, {"ip"} or, for dst, {"cluster","namespace","service"}',
    )
