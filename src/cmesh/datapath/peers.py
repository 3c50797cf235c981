"""Who is at an address, as one cluster's datapath sees it (the ipcache, ref §3.3, §1.4).

A :class:`Peer` is one end of a flow: a pod (local or learned from a connected cluster), a
node (``host`` for the endpoint's own node, ``remote-node`` for every other node of the mesh), a
Service's ClusterIP (translated before policy, ref §2.4), or the world (CIDR identity or
``world``).  Identities are always as seen by a given cluster: a pod of a cluster this one is
not connected to is just an address, so it is ``world`` (no ipcache entry).
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from cmesh.cluster import NodeInfo, ServiceInfo
from cmesh.errors import NotFound
from cmesh.identity import ReservedIdentity
from cmesh.labels import Labels, reserved
from cmesh.policy.view import ClusterView, Endpoint, runs_apiserver


class PeerKind(enum.Enum):
    POD = "pod"
    NODE = "node"
    SERVICE = "service"
    WORLD = "world"


@dataclass(frozen=True, slots=True)
class Peer:
    kind: PeerKind
    ip: str
    cluster: str = ""
    endpoint: Endpoint | None = None
    node: NodeInfo | None = None
    service: ServiceInfo | None = None
    names: tuple[str, ...] = ()

    @property
    def display(self) -> str:
        if self.endpoint is not None:
            return f"{self.endpoint.cluster}/{self.endpoint.namespace}/{self.endpoint.name}"
        if self.node is not None:
            return f"{self.cluster}/node/{self.node.name}"
        if self.service is not None:
            return f"{self.cluster}/svc/{self.service.namespace}/{self.service.name}"
        if self.names:
            return self.names[0]
        return self.ip


@dataclass
class Mesh:
    """Every cluster of a home, each as its own agent sees it, and who is connected to whom."""

    views: dict[str, ClusterView]
    connected: dict[str, set[str]] = field(default_factory=dict)
    hosts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # world DNS: name -> IPs

    def connect(self, a: str, b: str) -> None:
        """Connect two clusters both ways, as ``clustermesh connect`` does, in memory: each
        imports what the other exports (identities, ipcache, nodes, global services)."""
        from cmesh.mesh.state import apply_imports, export_data

        for x, y in ((a, b), (b, a)):
            self.connected.setdefault(x, set()).add(y)
        for x in (a, b):
            apply_imports(
                self.views[x],
                [export_data(self.views[y]) for y in sorted(self.connected.get(x, ()))],
            )

    def view(self, cluster: str) -> ClusterView:
        """``cluster``'s view; :class:`NotFound` (naming the clusters) if the home has none."""
        view = self.views.get(cluster)
        if view is None:
            raise NotFound(
                f'cluster "{cluster}" does not exist',
                hint="clusters: " + ", ".join(sorted(self.views)),
            )
        return view

    def trust_domain(self, cluster: str) -> str:
        """``cluster``'s SPIFFE trust domain (its config's, else Cilium's per-cluster default),
        read from the view so that every way of building a mesh carries it."""
        return self.view(cluster).cfg.auth_trust_domain or f"{cluster}.spiffe.cilium"

    def dns_reject_code(self, cluster: str) -> str:
        """What ``cluster``'s DNS proxy answers a refused query (ref §1.10): REFUSED or NXDOMAIN."""
        return self.view(cluster).cfg.dns_reject_response

    def peers_of(self, cluster: str) -> set[str]:
        return self.connected.get(cluster, set())

    def node_at(self, ip: str) -> tuple[str, NodeInfo] | None:
        """The node with address ``ip`` (ground truth, across every cluster of the home)."""
        for name, v in self.views.items():
            for n in v.inventory.nodes.values():
                if n.ip == ip:
                    return name, n
        return None

    def pod_at(self, ip: str) -> Endpoint | None:
        for v in self.views.values():
            ep = v.by_ip.get(ip)
            if ep is not None:
                return ep
        return None

    def service_at(self, cluster: str, ip: str) -> ServiceInfo | None:
        for s in self.view(cluster).inventory.services.values():
            if s.cluster_ip == ip and s.type != "ExternalName":
                return s
        return None

    def names_of(self, ip: str) -> tuple[str, ...]:
        return tuple(sorted(n for n, ips in self.hosts.items() if ip in ips))

    def resolve(self, viewer: str, ip: str) -> Peer:
        """The peer at ``ip`` as cluster ``viewer`` sees it (service IPs are the viewer's)."""
        ipaddress.ip_address(ip)
        svc = self.service_at(viewer, ip)
        if svc is not None:
            return Peer(PeerKind.SERVICE, ip, viewer, service=svc)
        ep = self.pod_at(ip)
        if ep is not None:
            return Peer(PeerKind.POD, ip, ep.cluster, endpoint=ep)
        node = self.node_at(ip)
        if node is not None:
            return Peer(PeerKind.NODE, ip, node[0], node=node[1])
        return Peer(PeerKind.WORLD, ip, names=self.names_of(ip))

    def identity_seen_by(self, viewer: str, local_node: str, peer: Peer) -> tuple[int, Labels]:
        """The identity (and its labels) cluster ``viewer`` gives ``peer``.

        ``local_node`` is the node of the endpoint whose policy is evaluated: that node's own
        address is ``host``, every other node ``remote-node`` (ref §1.4).
        """
        view = self.views[viewer]
        if peer.kind is PeerKind.POD and peer.endpoint is not None:
            ep = peer.endpoint
            if ep.cluster == viewer:
                return ep.identity, ep.labels
            learned = view.remote_endpoints.get(peer.ip)
            if learned is not None:  # the ipcache entry imported from the remote cluster
                return learned.identity, learned.labels
        elif peer.kind is PeerKind.NODE and peer.node is not None:
            if peer.cluster == viewer and peer.node.name == local_node:
                return int(ReservedIdentity.HOST), reserved("host")
            if peer.cluster == viewer and runs_apiserver(peer.node.name):
                # the apiserver's node: kube-apiserver (+ remote-node) in the ipcache (ref §1.4)
                return int(ReservedIdentity.KUBE_APISERVER), reserved(
                    "kube-apiserver", "remote-node"
                )
            if peer.cluster == viewer or peer.ip in view.remote_nodes:
                return int(ReservedIdentity.REMOTE_NODE), reserved("remote-node")
        ident = view.engine.world_identity(peer.ip)
        info = view.engine.identity(ident)
        return ident, info.labels if info else reserved("world")
