"""What each workload was seen doing: its peers, ports and requests, per direction.

A workload is one identity of one cluster (``--per workload``; pods of a Deployment share it,
ref §2.10) or one namespace of one cluster (``--per namespace``).  Every connection of the log
that passed (or, with ``include_dropped``, was dropped) adds, for the source pod, an egress
observation and, for the destination pod, an ingress one — whichever direction the recording
event attested — in the clusters generated for.

Peers are described the way the *subject's* cluster sees them (ref §1.14, §2.4), which is what
its policy must select: a pod by its identity labels (with its cluster when remote); a node or
the apiserver by its entity (ref §1.4); an outside address by the DNS names it was reached by
(``toFQDNs``, egress) or else its address (``toCIDR``/``fromCIDR``, ref §1.5, §1.7).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from cmesh.datapath import Mesh
from cmesh.generate.shapes import peer_labels, policy_name, workload_labels
from cmesh.identity import ReservedIdentity
from cmesh.labels import Labels
from cmesh.replay import PROTOCOL_NAMES, End, EndKind, FlowLog, Observed, RecordKey, Resolver

_WORLD = {"world", "world-ipv4", "world-ipv6"}


@dataclass(frozen=True, order=True)
class PeerSpec:
    """A peer as a rule names it: kind is endpoints, entity, cidr or fqdn."""

    kind: str
    value: tuple[str, ...] | tuple[tuple[str, str], ...]

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.value) if self.kind == "endpoints" else {}  # type: ignore[arg-type]


@dataclass
class PeerTraffic:
    """What went to or came from one peer: ports by protocol, ICMP types, requests."""

    ports: dict[str, set[int]] = field(default_factory=dict)  # TCP/UDP/SCTP -> ports
    icmp: dict[str, set[int]] = field(default_factory=dict)  # IPv4/IPv6 -> types
    http: dict[tuple[str, int], set[tuple[str, str]]] = field(default_factory=dict)
    dns: dict[tuple[str, int], set[str]] = field(default_factory=dict)

    def add(self, proto: int, port: int) -> None:
        name = PROTOCOL_NAMES[proto]
        if name.startswith("ICMP"):
            self.icmp.setdefault("IPv4" if name == "ICMPv4" else "IPv6", set()).add(port)
        else:
            self.ports.setdefault(name, set()).add(port)


@dataclass
class Subject:
    """One workload (or namespace) to write a policy for."""

    cluster: str
    namespace: str
    name: str
    selector: dict[str, str]
    identities: set[int] = field(default_factory=set)
    ingress: dict[PeerSpec, PeerTraffic] = field(default_factory=dict)
    egress: dict[PeerSpec, PeerTraffic] = field(default_factory=dict)
    flows: int = 0

    def traffic(self, direction: str, peer: PeerSpec) -> PeerTraffic:
        side = self.ingress if direction == "ingress" else self.egress
        got = side.get(peer)
        if got is None:
            got = side[peer] = PeerTraffic()
        return got


@dataclass
class Observation:
    subjects: dict[tuple[str, str, object], Subject] = field(default_factory=dict)
    used: set[RecordKey] = field(default_factory=set)
    dropped_ignored: int = 0


def _external(end: End, log: FlowLog, egress: bool) -> PeerSpec:
    if not end.ip:
        return PeerSpec("entity", ("world",))
    if egress:
        names = sorted(
            {n.rstrip(".") for n in log.names.get(end.ip, ()) if not n.endswith(".local.")}
        )
        names = [n for n in names if n and not n.endswith(".local")]
        if names:
            return PeerSpec("fqdn", tuple(names))
    bits = 32 if ipaddress.ip_address(end.ip).version == 4 else 128
    return PeerSpec("cidr", (f"{end.ip}/{bits}",))


def peer_spec(
    mesh: Mesh,
    resolver: Resolver,
    log: FlowLog,
    cluster: str,
    node: str,
    namespace: str,
    end: End,
    *,
    egress: bool,
) -> PeerSpec:
    """How a policy of ``cluster`` in ``namespace`` selects ``end`` (see the module doc)."""
    view = mesh.views[cluster]
    ident = resolver.peer(cluster, node, end)
    info = view.engine.identity(ident)
    if 0 < ident < 256:
        try:
            name = ReservedIdentity(ident).label_name
        except ValueError:
            name = "world"
        if name in _WORLD:
            return _external(end, log, egress)
        return PeerSpec("entity", (name,))
    labels = info.labels if info is not None else Labels()
    if info is None or info.cidr or labels.lookup("world", "reserved") is not None:
        return _external(end, log, egress)
    explicit = not view.cfg.policy_default_local_cluster
    sel = peer_labels(labels, namespace, cluster, explicit_cluster=explicit)
    return PeerSpec("endpoints", tuple(sorted(sel.items())))


def _workload_name(end: End, labels: dict[str, str]) -> str:
    if end.workload:
        return end.workload
    for key in ("app.kubernetes.io/name", "app", "k8s-app", "name"):
        if key in labels:
            return labels[key]
    return f"identity-{end.identity}"


def observe(
    mesh: Mesh,
    log: FlowLog,
    clusters: Iterable[str],
    *,
    per: str = "workload",
    include_dropped: bool = False,
    l7: bool = False,
) -> Observation:
    scope = set(clusters)
    resolver = Resolver(mesh, log)
    obs = Observation()
    specs: dict[tuple[str, str, str, int, str], PeerSpec] = {}  # ends are cached: ids are stable
    for key, count in log.counts.items():
        _o, src_k, dst_k, proto, port, _side, observed, l7key = key
        if observed == Observed.DROPPED and not include_dropped:
            obs.dropped_ignored += count
            continue
        src, dst = resolver.end(src_k), resolver.end(dst_k)
        touched = False
        for direction, local, other in (("egress", src, dst), ("ingress", dst, src)):
            subj = resolver.subject(local, local.cluster) if local.cluster in scope else None
            if subj is None:
                continue
            ident, node = subj
            subject = _subject(obs, local, ident, per)
            subject.flows += count
            pk = (local.cluster, node, local.namespace, id(other), direction)
            peer = specs.get(pk)
            if peer is None:
                peer = specs[pk] = peer_spec(
                    mesh,
                    resolver,
                    log,
                    local.cluster,
                    node,
                    local.namespace,
                    other,
                    egress=direction == "egress",
                )
            traffic = subject.traffic(direction, peer)
            traffic.add(proto, port)
            touched = True
            if not l7 or l7key is None:
                continue
            pname = PROTOCOL_NAMES[proto]
            if l7key[0] == "dns" and direction == "egress":
                traffic.dns.setdefault((pname, port), set()).add(l7key[1])
            elif l7key[0] == "http" and (direction == "ingress" or dst.kind is not EndKind.POD):
                traffic.http.setdefault((pname, port), set()).add((l7key[1], l7key[2]))
        if touched:
            obs.used.add(key)
    return obs


def _subject(obs: Observation, end: End, ident: int, per: str) -> Subject:
    if per == "namespace":
        key: tuple[str, str, object] = (end.cluster, end.namespace, "")
    else:
        key = (end.cluster, end.namespace, ident)
    got = obs.subjects.get(key)
    if got is None:
        if per == "namespace":
            name, selector = policy_name("namespace", end.namespace), {}
        else:
            labels = workload_labels(end.labels)
            name, selector = policy_name(_workload_name(end, labels)), labels
        got = obs.subjects[key] = Subject(end.cluster, end.namespace, name, selector)
    got.identities.add(ident)
    return got
