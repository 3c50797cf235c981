"""``policy trace``: name the two ends of a flow, translate services, and decide it.

Ends are written ``NS/POD`` (a pod of the context's cluster), ``CLUSTER/NS/POD``, an IP, or for
the destination ``svc:NS/NAME`` (translated to one backend, deterministically per flow, as the
load balancer would before policy, ref §2.4).  Queries in JSONL use the same resolution.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cmesh.cluster import ServiceInfo
from cmesh.datapath.peers import Mesh, Peer, PeerKind
from cmesh.datapath.verdict import FlowVerdict, decide
from cmesh.errors import InvalidArgument, NotFound
from cmesh.policy.types import Protocol


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
    l7_requested: bool = False


def find_pod(mesh: Mesh, cluster: str, namespace: str, name: str) -> Peer:
    if cluster not in mesh.views:
        raise NotFound(
            f'cluster "{cluster}" does not exist', hint="clusters: " + ", ".join(sorted(mesh.views))
        )
    view = mesh.views[cluster]
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
    view = mesh.views[cluster]
    svc = view.inventory.services.get((namespace, name))
    if svc is None:
        raise NotFound(f'service "{namespace}/{name}" not found in cluster {cluster}')
    return Peer(PeerKind.SERVICE, svc.cluster_ip, cluster, service=svc)


def backends(mesh: Mesh, cluster: str, svc: ServiceInfo) -> list[Peer]:
    """The service's backend pods in its cluster (global services add remote ones later)."""
    if not svc.selector:
        return []
    view = mesh.views[cluster]
    out = []
    for ep in view.endpoints.values():
        if ep.namespace == svc.namespace and all(
            ep.pod.labels.get(k) == v for k, v in svc.selector.items()
        ):
            out.append(Peer(PeerKind.POD, ep.ip, cluster, endpoint=ep))
    return sorted(out, key=lambda p: p.ip)


def target_port(svc: ServiceInfo, port: int, backend: Peer, protocol: Protocol) -> tuple[int, int]:
    """(service port, backend port) for a request to ``port`` (0: the service's first port)."""
    sp = next(
        (p for p in svc.ports if (port == 0 or p.port == port) and p.protocol == protocol.value),
        None,
    )
    if sp is None:
        ports = ", ".join(f"{p.port}/{p.protocol}" for p in svc.ports) or "none"
        raise InvalidArgument(
            f"service {svc.namespace}/{svc.name} has no port {port}/{protocol.value}",
            hint=f"its ports: {ports}",
        )
    tp = sp.target_port
    if isinstance(tp, str) and not tp.isdigit():
        named = backend.endpoint.pod.named_port(tp, protocol.value) if backend.endpoint else None
        return sp.port, named.port if named else sp.port
    return sp.port, int(tp)


def pick(key: str, options: list[Peer]) -> Peer:
    h = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return options[h % len(options)]


def trace(
    mesh: Mesh, src: Peer, dst: Peer, protocol: Protocol, port: int, *, explain: bool = True
) -> Trace:
    hop = None
    if dst.kind is PeerKind.SERVICE and dst.service is not None:
        svc = dst.service
        bes = backends(mesh, dst.cluster, svc)
        if not bes:
            raise NotFound(
                f"service {svc.namespace}/{svc.name} has no backends",
                hint="no pod matches its selector",
            )
        backend = pick(f"{src.ip}|{svc.namespace}/{svc.name}|{port}", bes)
        sport, tport = target_port(svc, port, backend, protocol)
        hop = ServiceHop(svc, sport, backend, tport, len(bes))
        dst, port = backend, tport
    return Trace(decide(mesh, src, dst, protocol, port, explain=explain), hop)


def query_end(mesh: Mesh, q: Mapping[str, Any], context: str, *, dst: bool) -> Peer:
    """A JSONL query end: {cluster,namespace,pod} | {cluster,node} | {ip} | {cluster,namespace,service}."""
    if "ip" in q:
        return mesh.resolve(q.get("cluster") or context, str(q["ip"]))
    cluster = q.get("cluster") or context
    if "pod" in q:
        return find_pod(mesh, cluster, q.get("namespace", "default"), q["pod"])
    if "node" in q:
        node = mesh.views[cluster].inventory.nodes.get(q["node"])
        if node is None:
            raise NotFound(f'node "{q["node"]}" not found in cluster {cluster}')
        return Peer(PeerKind.NODE, node.ip, cluster, node=node)
    if dst and "service" in q:
        return find_service(mesh, cluster, q.get("namespace", "default"), q["service"])
    raise InvalidArgument(
        f"cannot read flow end {dict(q)!r}",
        hint='use {"cluster","namespace","pod"}, {"cluster","node"}, {"ip"} or, for dst, {"cluster","namespace","service"}',
    )
