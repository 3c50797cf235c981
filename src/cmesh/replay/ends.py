"""Map a recorded flow end onto the home's inventory, or onto what Hubble recorded about it.

An end is looked up, in order (issue 9, ref §4.1 Endpoint):

1. by cluster, namespace and pod name — the pod still exists: its current endpoint;
2. by address, when the flow names no pod: the pod, node or outside address there now;
3. otherwise by the labels and identity Hubble recorded: a pod that is gone (a Deployment's
   replaced replica, a deleted workload) is the identity with those labels if one exists, else
   that identity is re-created in memory with the recorded labels, so selectors decide about it
   exactly as they would about the pod; reserved and CIDR peers keep their meaning.

Identities are always *as a given cluster sees them* (ref §1.14, §2.4): a pod of a cluster the
viewer is not connected to is ``world`` to it; an outside address is the longest CIDR identity
the viewer's policies define, or ``world`` (:meth:`PolicyEngine.world_identity`), so a proposed
``toCIDR`` rule is honoured.  Nothing is written to the store: the mesh is an in-memory copy.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from cmesh.datapath import Mesh, Peer, PeerKind
from cmesh.identity import RESERVED_BY_NAME, ReservedIdentity
from cmesh.labels import POD_NAMESPACE_LABEL, POLICY_LABEL_CLUSTER, Label, Labels
from cmesh.policy import Endpoint, IdentityInfo
from cmesh.replay.records import EndKey, FlowLog

#: Identities created for recorded pods that no longer exist start here (above CIDR scope).
SYNTHETIC_BASE = 1 << 25


class EndKind(enum.Enum):
    POD = "pod"
    NODE = "node"
    WORLD = "world"


@dataclass(frozen=True)
class End:
    """One flow end, resolved.  ``endpoint`` is set when the pod exists in the home now."""

    kind: EndKind
    cluster: str
    namespace: str
    name: str
    ip: str
    labels: Labels
    identity: int
    endpoint: Endpoint | None = None
    node_ip_known: bool = False
    workload: str = ""

    @property
    def display(self) -> str:
        if self.kind is EndKind.POD:
            return f"{self.cluster}/{self.namespace}/{self.name or self.ip}"
        if self.kind is EndKind.NODE:
            return f"{self.cluster + '/' if self.cluster else ''}node/{self.name or self.ip}"
        return self.ip or "world"

    @property
    def reserved(self) -> list[str]:
        return [lb.key for lb in self.labels.labels() if lb.source == "reserved"]


@dataclass
class Resolver:
    """Resolves recorded ends against ``mesh`` (an in-memory copy the resolver may extend)."""

    mesh: Mesh
    log: FlowLog
    _ends: dict[EndKey, End] = field(default_factory=dict)
    _by_labels: dict[str, dict[Labels, int]] = field(default_factory=dict)
    _next: int = SYNTHETIC_BASE
    synthesized: int = 0

    # -- ends ------------------------------------------------------------------------------
    def end(self, key: EndKey) -> End:
        got = self._ends.get(key)
        if got is None:
            got = self._ends[key] = self._resolve(key)
        return got

    def _resolve(self, key: EndKey) -> End:
        cluster, ns, pod, ip, ident = key
        labels = Labels.parse(self.log.labels.get(key, ()))
        wl = self.log.workloads.get(key, "")
        view = self.mesh.views.get(cluster)
        if pod and view is not None:
            ep = view.endpoints.get((ns, pod))
            if ep is not None:
                return self._pod(ep, wl)
        if not pod and ip:
            ep = self.mesh.pod_at(ip)
            if ep is not None and (not cluster or ep.cluster == cluster):
                return self._pod(ep, wl)
        if pod or ns:
            if POLICY_LABEL_CLUSTER not in labels and cluster:
                labels = labels.merged([Label("k8s", POLICY_LABEL_CLUSTER, cluster)])
            if POD_NAMESPACE_LABEL not in labels and ns:
                labels = labels.merged([Label("k8s", POD_NAMESPACE_LABEL, ns)])
            return End(EndKind.POD, cluster, ns, pod, ip, labels, ident, workload=wl)
        node = self.mesh.node_at(ip) if ip else None
        if node is not None:
            return End(EndKind.NODE, node[0], "", node[1].name, ip, labels, ident, None, True)
        reserved = {lb.key for lb in labels.labels() if lb.source == "reserved"}
        if reserved & {"host", "remote-node", "kube-apiserver", "health", "ingress"}:
            return End(EndKind.NODE, cluster, "", "", ip, labels, ident)
        return End(EndKind.WORLD, "", "", "", ip, labels, ident)

    @staticmethod
    def _pod(ep: Endpoint, wl: str) -> End:
        return End(
            EndKind.POD,
            ep.cluster,
            ep.namespace,
            ep.name,
            ep.ip,
            ep.labels,
            ep.identity,
            ep,
            workload=wl or ep.pod.workload_name,
        )

    # -- identities --------------------------------------------------------------------------
    def subject(self, end: End, cluster: str) -> tuple[int, str] | None:
        """``(identity, node)`` of ``end`` as a policy subject of ``cluster``, or ``None`` when
        ``cluster`` enforces nothing for it (not one of its pods: nodes and the world have no
        endpoint policy here, ref §2.4)."""
        if end.kind is not EndKind.POD or end.cluster != cluster or cluster not in self.mesh.views:
            return None
        if end.endpoint is not None:
            return end.endpoint.identity, end.endpoint.node
        return self._by_label_set(cluster, end.labels, end.identity), ""

    def peer(self, viewer: str, node: str, end: End) -> int:
        """The identity cluster ``viewer`` gives ``end`` (``node``: the subject's node)."""
        mesh = self.mesh
        if end.endpoint is not None:
            return mesh.identity_seen_by(
                viewer, node, Peer(PeerKind.POD, end.ip, end.cluster, endpoint=end.endpoint)
            )[0]
        view = mesh.views[viewer]
        if end.kind is EndKind.POD:
            if end.cluster == viewer or end.cluster in mesh.peers_of(viewer):
                return self._by_label_set(viewer, end.labels, end.identity)
            return view.engine.world_identity(end.ip) if end.ip else int(ReservedIdentity.WORLD)
        if end.kind is EndKind.NODE:
            if end.node_ip_known:
                found = mesh.node_at(end.ip)
                if found is not None:
                    peer = Peer(PeerKind.NODE, end.ip, found[0], node=found[1])
                    return mesh.identity_seen_by(viewer, node, peer)[0]
            for name in ("kube-apiserver", "host", "remote-node", "health", "ingress"):
                if name in end.reserved:
                    return int(RESERVED_BY_NAME[name])
            return end.identity
        return view.engine.world_identity(end.ip) if end.ip else int(ReservedIdentity.WORLD)

    def _by_label_set(self, cluster: str, labels: Labels, recorded: int) -> int:
        """The identity ``cluster`` has for ``labels``, created in memory when it has none (a
        pod of ``cluster`` itself becomes a local endpoint, so its policies select it)."""
        engine = self.mesh.views[cluster].engine
        cl = labels.get(POLICY_LABEL_CLUSTER)
        local = cl is not None and cl.value == cluster
        index = self._by_labels.get(cluster)
        if index is None:
            index = self._by_labels[cluster] = {
                info.labels: i for i, info in engine.cache.identities.items()
            }
        found = index.get(labels)
        if found is not None:
            if local and found not in engine.local:
                engine.upsert_identity(engine.cache.identities[found], local=True)
            return found
        ident = recorded
        if ident <= 255 or ident in engine.cache.identities or ident >= 1 << 26:
            ident = self._next
            while ident in engine.cache.identities:
                ident += 1
            self._next = ident + 1
        info = IdentityInfo(ident, labels, cl.value if cl else "")
        engine.upsert_identity(info, local=local)
        index[labels] = ident
        self.synthesized += 1
        return ident
