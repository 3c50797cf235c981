"""The policy stage of a flow: the source's egress, then the destination's ingress.

Each end is decided by its own cluster's engine with the other end's identity as that cluster
sees it (ref §2.4: both ends enforce; in a mesh each cluster enforces its own side).  Only
managed endpoints (pods) have policy; a node or the world is never a subject here (host
firewall is not simulated).  This is the one place verdicts are combined: ``policy trace``,
the simulated datapath, replay and the offline analyses all call :func:`decide`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cmesh.datapath.peers import Mesh, Peer, PeerKind
from cmesh.labels import Labels
from cmesh.policy.explain import Miss, nearest_misses
from cmesh.policy.lookup import Decision
from cmesh.policy.types import Direction, DropReason, PolicyRef, Protocol, Verdict


@dataclass(frozen=True)
class Side:
    """One direction's verdict, with the identities involved and (for default-deny drops)
    why: the rules that turned default deny on and the nearest misses."""

    decision: Decision
    cluster: str
    subject_identity: int
    peer_identity: int
    peer_labels: Labels
    misses: tuple[Miss, ...] = ()


@dataclass(frozen=True)
class FlowVerdict:
    src: Peer
    dst: Peer
    protocol: Protocol
    port: int
    egress: Side | None
    ingress: Side | None
    verdict: Verdict
    drop_reason: DropReason | None = None
    decided_at: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def policies(self) -> tuple[PolicyRef, ...]:
        refs: list[PolicyRef] = []
        for side in (self.egress, self.ingress):
            if side is None:
                continue
            d = side.decision
            refs += [*d.denied_by, *d.allowed_by, *d.audited_by]
            if d.drop_reason is DropReason.POLICY_DENIED:
                refs += list(d.default_deny_by)
        return tuple(dict.fromkeys(refs))


def _side(
    mesh: Mesh,
    direction: Direction,
    local: Peer,
    other: Peer,
    protocol: Protocol,
    port: int,
    explain: bool,
) -> Side | None:
    ep = local.endpoint
    if local.kind is not PeerKind.POD or ep is None:
        return None
    view = mesh.view(ep.cluster)
    peer_id, peer_labels = mesh.identity_seen_by(ep.cluster, ep.node, other)
    # The endpoint's own map: ingress named ports resolve against its ports (ref §1.8).
    own = ep.named_ports
    audit = f"{ep.namespace}/{ep.name}" in view.cfg.audit_endpoints
    d = view.engine.decide(
        direction, ep.identity, peer_id, protocol, port, named_ports=own, endpoint_audit=audit
    )
    misses: tuple[Miss, ...] = ()
    if explain and d.drop_reason is DropReason.POLICY_DENIED:
        misses = tuple(
            nearest_misses(
                view.engine,
                ep.identity,
                direction,
                peer_id,
                peer_labels,
                protocol,
                port,
                named_ports=own,
            )
        )
    return Side(d, ep.cluster, ep.identity, peer_id, peer_labels, misses)


def decide(
    mesh: Mesh, src: Peer, dst: Peer, protocol: Protocol, port: int, *, explain: bool = True
) -> FlowVerdict:
    """The L3/L4 policy verdict of a flow from ``src`` to ``dst`` (a backend, not a VIP)."""
    eg = _side(mesh, Direction.EGRESS, src, dst, protocol, port, explain)
    ing = _side(mesh, Direction.INGRESS, dst, src, protocol, port, explain)
    notes = []
    if src.kind is PeerKind.POD and dst.kind is PeerKind.POD and src.endpoint and dst.endpoint:
        a, b = src.endpoint.cluster, dst.endpoint.cluster
        if a != b and b not in mesh.peers_of(a):
            notes.append(f"{a} and {b} are not connected: each sees the other's pods as world")
    for name, side in (("egress", eg), ("ingress", ing)):
        if side is not None and side.decision.verdict is Verdict.DROPPED:
            return FlowVerdict(
                src,
                dst,
                protocol,
                port,
                eg,
                ing,
                Verdict.DROPPED,
                side.decision.drop_reason,
                name,
                tuple(notes),
            )
    audit = any(s is not None and s.decision.verdict is Verdict.AUDIT for s in (eg, ing))
    verdict = Verdict.AUDIT if audit else Verdict.FORWARDED
    return FlowVerdict(src, dst, protocol, port, eg, ing, verdict, None, "", tuple(notes))
