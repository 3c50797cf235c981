"""Turn listed ends into concrete flow ends, to check the list against ``decide`` (the truth)."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Iterator

from cmesh.analysis import Analyzer, End, PortSet
from cmesh.datapath import Mesh, Peer, PeerKind, decide
from cmesh.policy import Protocol

WORLD_CANDIDATES = ("203.0.113.77", "8.8.8.8", "1.1.1.1", "100.100.100.100", "11.22.33.44")


def concrete(mesh: Mesh, end: End, near: Peer | None) -> Peer | None:
    """A peer standing for ``end`` (externals as seen from ``near``'s pod, in its cluster)."""
    if end.pods:
        ep = end.pods[0]
        return Peer(PeerKind.POD, ep.ip, ep.cluster, endpoint=ep)
    view = mesh.views[end.cluster]
    if end.kind in ("cidr", "fqdn", "entity") and end.name in (
        "host",
        "remote-node",
        "kube-apiserver",
    ):
        assert near is not None and near.endpoint is not None
        own = near.endpoint.node
        for node in sorted(view.inventory.nodes.values(), key=lambda n: n.name):
            is_cp = node.name.endswith("control-plane")
            if end.name == "host" and node.name == own:
                return Peer(PeerKind.NODE, node.ip, end.cluster, node=node)
            if node.name == own:
                continue
            if (end.name == "kube-apiserver" and is_cp) or (
                end.name == "remote-node" and not is_cp
            ):
                return Peer(PeerKind.NODE, node.ip, end.cluster, node=node)
        return None
    if end.kind == "entity":  # world
        for ip in WORLD_CANDIDATES:
            if view.engine.world_identity(ip) == end.identity:
                return Peer(PeerKind.WORLD, ip)
        return None
    net = ipaddress.ip_network(
        end.name if end.kind == "cidr" else view.engine.identity(end.identity).cidr
    )
    for i, addr in enumerate(net):
        if i > 4096:
            break
        if view.engine.world_identity(str(addr)) == end.identity and mesh.pod_at(str(addr)) is None:
            return Peer(PeerKind.WORLD, str(addr))
    return None


def edge_ports(ps: PortSet) -> set[tuple[Protocol, int]]:
    out = set()
    for proto, spans in ps.spans:
        for lo, hi in spans:
            out |= {(proto, max(lo - 1, 0)), (proto, lo), (proto, hi), (proto, min(hi + 1, 65535))}
    return out


DEFAULT_PROBES = {
    (Protocol.TCP, 80),
    (Protocol.TCP, 8080),
    (Protocol.TCP, 5432),
    (Protocol.UDP, 53),
    (Protocol.TCP, 53),
    (Protocol.SCTP, 9),
    (Protocol.ICMP, 8),
}


def disagreements(mesh: Mesh, ends: list[End], *, pairs: int = 400, seed: int = 0) -> Iterator[str]:
    """Every probe on which the list and ``decide`` disagree, for sampled pairs of ends."""
    an = Analyzer(mesh)
    rng = random.Random(seed)
    candidates = [
        (a, b)
        for a in ends
        for b in ends
        if a is not b
        and not (a.external and b.external)
        and not ((a.external or b.external) and a.cluster != b.cluster)
    ]
    rng.shuffle(candidates)
    for src, dst in candidates[:pairs]:
        got = an.pair(src, dst)
        eg, ing = an.sides(
            src.classes[0] if src.classes else src, dst.classes[0] if dst.classes else dst
        )
        probes = (
            DEFAULT_PROBES | edge_ports(got.ports) | edge_ports(eg.ports) | edge_ports(ing.ports)
        )
        for s_ep in src.pods[:2] or (None,):
            for d_ep in dst.pods[:2] or (None,):
                s = Peer(PeerKind.POD, s_ep.ip, s_ep.cluster, endpoint=s_ep) if s_ep else None
                d = Peer(PeerKind.POD, d_ep.ip, d_ep.cluster, endpoint=d_ep) if d_ep else None
                s = s or concrete(mesh, src, d)
                d = d or concrete(mesh, dst, s)
                if s is None or d is None or s.ip == d.ip:
                    continue
                for proto, port in sorted(probes, key=lambda x: (x[0].value, x[1])):
                    v = decide(mesh, s, d, proto, port, explain=False)
                    truth = v.verdict.name != "DROPPED"
                    listed = got.ports.contains(proto, port)
                    if truth != listed:
                        yield f"{src.label} => {dst.label} {proto.value}/{port}: decide {v.verdict.name}, list {listed}"
                        continue
                    if not truth:
                        continue
                    for side, direction in ((v.egress, "egress"), (v.ingress, "ingress")):
                        proxied = side is not None and side.decision.l7 is not None
                        noted = any(
                            n.direction.value == direction and n.ports.contains(proto, port)
                            for n in got.l7
                        )
                        if proxied != noted:
                            yield f"{src.label} => {dst.label} {proto.value}/{port}: {direction} L7 decide {proxied}, list {noted}"
