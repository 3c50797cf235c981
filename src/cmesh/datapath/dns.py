"""The cluster DNS (CoreDNS behind kube-system/kube-dns) and the pods' resolver (ref §2.11).

Names: ``<svc>.<ns>.svc.cluster.local`` (a Service's ClusterIP, or its pods for a headless
Service), ``<a-b-c-d>.<ns>.pod.cluster.local``, and names outside the mesh from the hosts
table users manage with ``cmesh dns add`` (those are world peers).  A pod's resolver has the
Kubernetes search path (``<ns>.svc.cluster.local svc.cluster.local cluster.local``, ndots 5),
so ``payment-service`` is asked for as ``payment-service.<ns>.svc.cluster.local.`` first — every
try is a real query that egress policy and DNS rules see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cmesh.datapath.requests import DNSQuery, DNSResponse
from cmesh.policy.types import Protocol
from cmesh.policy.view import has_cluster_ip

if TYPE_CHECKING:
    from cmesh.datapath.peers import Peer
    from cmesh.datapath.sim import Connection, Simulator

CLUSTER_DOMAIN = "cluster.local"
TTL = 30


def search_list(namespace: str, name: str, ndots: int = 5) -> list[str]:
    """The names a pod's resolver tries, in order (resolv.conf search with ``ndots:5``).

    A name ending in a dot is absolute: it is asked as it is, without the search list.
    """
    if name.endswith("."):
        return [name]
    name = name.rstrip(".")
    if name.endswith("." + CLUSTER_DOMAIN) and name.count(".") >= ndots:
        return [name + "."]
    search = [f"{namespace}.svc.{CLUSTER_DOMAIN}", f"svc.{CLUSTER_DOMAIN}", CLUSTER_DOMAIN]
    expanded = [f"{name}.{s}." for s in search]
    if name.count(".") >= ndots:
        return [name + ".", *expanded]
    return [*expanded, name + "."]


def nameserver(sim: Simulator, cluster: str) -> str | None:
    svc = sim.mesh.views[cluster].inventory.services.get(("kube-system", "kube-dns"))
    return svc.cluster_ip if svc and has_cluster_ip(svc.cluster_ip) else None


def answer(sim: Simulator, conn: Connection, q: DNSQuery) -> DNSResponse:
    """What CoreDNS of the serving pod's cluster answers."""
    cluster = conn.dst.endpoint.cluster if conn.dst.endpoint else conn.src.cluster
    return lookup(sim, cluster, q.name)


def lookup(sim: Simulator, cluster: str, name: str) -> DNSResponse:
    n = name.rstrip(".").lower()
    view = sim.mesh.views[cluster]
    suffix = ".svc." + CLUSTER_DOMAIN
    if n.endswith(suffix):
        parts = n[: -len(suffix)].split(".")
        if len(parts) == 2:
            svc = view.inventory.services.get((parts[1], parts[0]))
            if svc is not None:
                if has_cluster_ip(svc.cluster_ip):
                    return DNSResponse("NOERROR", (svc.cluster_ip,), TTL)
                lb = view.lb.get((parts[1], parts[0]))
                ips = tuple(
                    sorted(
                        {
                            b.ip
                            for bes in (lb.backends.values() if lb else ())
                            for b in bes
                            if b.cluster == cluster
                        }
                    )
                )
                return DNSResponse("NOERROR", ips, TTL) if ips else DNSResponse("NXDOMAIN")
        return DNSResponse("NXDOMAIN")
    pod_suffix = ".pod." + CLUSTER_DOMAIN
    if n.endswith(pod_suffix):
        dashed = n[: -len(pod_suffix)].split(".")[0]
        return DNSResponse("NOERROR", (dashed.replace("-", "."),), TTL)
    ips = sim.mesh.hosts.get(n) or sim.mesh.hosts.get(n + ".")
    if ips:
        return DNSResponse("NOERROR", tuple(ips), TTL)
    return DNSResponse("NXDOMAIN")


@dataclass
class Resolution:
    """What a client's resolver ended with, and every query it made."""

    name: str
    status: str  # NOERROR | NXDOMAIN | REFUSED | SERVFAIL | TIMEOUT | NO-NAMESERVER
    ips: tuple[str, ...] = ()
    server: str = ""
    answered_name: str = ""
    queries: list[Connection] = field(default_factory=list)
    elapsed: float = 0.0


def resolve(
    sim: Simulator, src: Peer, name: str, *, timeout: float = 5.0, search: bool = True
) -> Resolution:
    """Resolve ``name`` from pod ``src`` the way glibc's stub resolver would."""
    import ipaddress

    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        return Resolution(name, "NOERROR", (name,))
    ep = src.endpoint
    assert ep is not None
    server = nameserver(sim, ep.cluster)
    res = Resolution(name, "NO-NAMESERVER", server=server or "")
    if server is None:
        return res
    candidates = search_list(ep.namespace, name) if search else [name.rstrip(".") + "."]
    last = "NXDOMAIN"
    for cand in candidates:
        conn = sim.connect(src, server, 53, Protocol.UDP, timeout=timeout, request=DNSQuery(cand))
        res.queries.append(conn)
        res.elapsed += conn.elapsed
        if not conn.ok or not isinstance(conn.response, DNSResponse):
            res.status = "TIMEOUT" if conn.status.value == "timeout" else "SERVFAIL"
            return res
        r = conn.response
        if r.rcode == "NOERROR" and r.ips:
            res.status, res.ips, res.answered_name = "NOERROR", r.ips, cand
            return res
        last = r.rcode
        if r.rcode == "REFUSED":
            res.status = "REFUSED"
            return res
    res.status = last
    return res
