"""The ends of connections the list reports: workloads (or pods) and non-workload peers.

Policy decides per identity, so pods are grouped into :class:`EndpointClass` values — the pods
of one cluster that every cluster of the mesh sees with the same identity.  In its own cluster a
pod has its label identity; a connected cluster sees the identity it imported; a cluster it is
not connected to sees only an address, so the ``world`` or CIDR identity its ipcache gives that
address (ref §1.5, §3.3; ``Mesh.identity_seen_by`` decides it).  A class also
keeps the pods' own named ports, since ingress named ports resolve against them (ref §1.8; the
engine keeps one map per identity and named-port set).  Two pods of one class are
interchangeable for every verdict except towards nodes.

Non-workload ends are per cluster, as that cluster's ipcache names them: the entities ``host``
(the pod's own node), ``remote-node``, ``kube-apiserver`` and ``world`` (ref §1.4, §2.9), the
CIDR identities created for CIDR rules — each stands for its prefix minus the more specific
prefixes that have their own identity (ref §1.5) — and FQDN identities (ref §1.7).  Host-network
pods are not endpoints: they are their node (ref §1.4), so they never appear as workloads.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from cmesh.datapath import Mesh, Peer, PeerKind
from cmesh.identity import ReservedIdentity
from cmesh.policy import Endpoint

ENTITIES = (
    ReservedIdentity.HOST,
    ReservedIdentity.KUBE_APISERVER,
    ReservedIdentity.REMOTE_NODE,
    ReservedIdentity.WORLD,
)


@dataclass(frozen=True, slots=True)
class EndpointClass:
    """Pods that every cluster of the mesh sees with the same identity."""

    cluster: str
    identity: int
    seen: tuple[tuple[str, int], ...]  # (other cluster, identity it gives these pods)
    #: the pods' own named container ports: ingress named ports resolve against them (ref §1.8)
    named_ports: tuple[tuple[str, str, int], ...] = ()

    def seen_by(self, cluster: str) -> int:
        if cluster == self.cluster:
            return self.identity
        for c, ident in self.seen:
            if c == cluster:
                return ident
        return int(ReservedIdentity.WORLD)


@dataclass(frozen=True, slots=True)
class End:
    """One end of a listed connection.

    ``kind`` is ``workload`` or ``pod`` (with ``classes`` and ``pods``), or ``entity``, ``cidr``
    or ``fqdn`` (with the ``identity`` its cluster gives it).  ``label`` is the printed name,
    netpol-analyzer's form: ``ns/name[Deployment]``, ``world[Entity]``, ``10.0.0.0/8[CIDR]``.
    """

    kind: str
    cluster: str
    namespace: str
    name: str
    type: str  # Deployment, StatefulSet, …, Pod; Entity, CIDR, FQDN
    identity: int = 0
    classes: tuple[EndpointClass, ...] = ()
    pods: tuple[Endpoint, ...] = field(default=(), compare=False)
    excepts: tuple[str, ...] = ()
    label: str = ""

    @property
    def external(self) -> bool:
        return self.kind in ("entity", "cidr", "fqdn")

    def matches(self, focus: str) -> bool:
        """``NS/NAME`` or ``CLUSTER/NS/NAME`` (a workload or pod name), or an external's name."""
        parts = focus.split("/")
        if self.external:
            return focus in (self.name, f"{self.cluster}/{self.name}")
        if len(parts) == 3:
            return (self.cluster, self.namespace, self.name) == tuple(parts)
        return (self.namespace, self.name) == tuple(parts)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind, "cluster": self.cluster, "name": self.name}
        if not self.external:
            out.update(namespace=self.namespace, type=self.type, pods=len(self.pods))
        else:
            out["identity"] = self.identity
        if self.excepts:
            out["except"] = list(self.excepts)
        return out


def endpoint_classes(mesh: Mesh) -> dict[str, EndpointClass]:
    """The class of every endpoint, by its ``cluster/ns/pod`` reference."""
    names = sorted(mesh.views)
    out: dict[str, EndpointClass] = {}
    interned: dict[EndpointClass, EndpointClass] = {}
    for c in names:
        for ep in mesh.views[c].endpoints.values():
            peer = Peer(PeerKind.POD, ep.ip, c, endpoint=ep)
            seen = tuple(
                (other, mesh.identity_seen_by(other, "", peer)[0]) for other in names if other != c
            )
            cls = EndpointClass(c, ep.identity, seen, ep.named_ports)
            out[ep.ref] = interned.setdefault(cls, cls)
    return out


def _label(cluster: str, text: str, with_cluster: bool) -> str:
    return f"{cluster}/{text}" if with_cluster else text


def workload_ends(
    mesh: Mesh, clusters: Iterable[str], *, pods: bool, with_cluster: bool
) -> list[End]:
    """Workloads (pods folded into their owner, as netpol-analyzer does) or single pods."""
    classes = endpoint_classes(mesh)
    groups: dict[tuple[str, str, str, str], list[Endpoint]] = defaultdict(list)
    for c in clusters:
        for ep in mesh.views[c].endpoints.values():
            kind = ep.pod.workload_kind or "Pod"
            name = ep.pod.workload_name or ep.name
            if pods:
                kind, name = "Pod", ep.name
            groups[(c, ep.namespace, kind, name)].append(ep)
    out = []
    for (c, ns, kind, name), eps in groups.items():
        eps.sort(key=lambda e: e.name)
        cls = tuple(dict.fromkeys(classes[e.ref] for e in eps))
        out.append(
            End(
                "pod" if pods else "workload",
                c,
                ns,
                name,
                kind,
                classes=cls,
                pods=tuple(eps),
                label=_label(c, f"{ns}/{name}[{kind}]", with_cluster),
            )
        )
    return out


def external_ends(
    mesh: Mesh,
    clusters: Iterable[str],
    *,
    with_cluster: bool,
    fqdn_names: dict[tuple[str, int], str] | None = None,
) -> list[End]:
    """Entities, CIDR and FQDN identities of each cluster's ipcache."""
    out = []
    for c in clusters:
        engine = mesh.views[c].engine
        nets = sorted(
            (
                (ipaddress.ip_network(info.cidr), info)
                for info in engine.cache.identities.values()
                if info.cidr
            ),
            key=lambda x: (x[0].version, int(x[0].network_address), x[0].prefixlen),
        )
        covered = any(n.prefixlen == 0 and n.version == 4 for n, _ in nets)
        for r in ENTITIES:
            if r is ReservedIdentity.WORLD and covered:
                continue  # 0.0.0.0/0 has its own identity: no address is left for world
            text = f"{r.label_name}[Entity]"
            out.append(
                End(
                    "entity",
                    c,
                    "",
                    r.label_name,
                    "Entity",
                    int(r),
                    label=_label(c, text, with_cluster),
                )
            )
        spans = [(n.version, int(n.network_address), int(n.broadcast_address)) for n, _ in nets]
        for k, (_net, info) in enumerate(nets):
            if info.fqdns:
                name = (fqdn_names or {}).get((c, info.id)) or ",".join(
                    sorted(f.rstrip(".") for f in info.fqdns)
                )
                label = _label(c, f"{name}[FQDN]", with_cluster)
                out.append(End("fqdn", c, "", name, "FQDN", info.id, label=label))
                continue
            v, lo, hi = spans[k]
            inner = []
            for m in range(k + 1, len(nets)):  # sorted by start: inner prefixes follow
                v2, lo2, hi2 = spans[m]
                if v2 != v or lo2 > hi:
                    break
                if hi2 <= hi and (lo2, hi2) != (lo, hi):
                    inner.append(str(nets[m][0]))
            out.append(
                End(
                    "cidr",
                    c,
                    "",
                    info.cidr,
                    "CIDR",
                    info.id,
                    excepts=tuple(inner),
                    label=_label(c, f"{info.cidr}[CIDR]", with_cluster),
                )
            )
    return out
