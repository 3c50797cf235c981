"""Why a listed pair is (or is not) connected: the deciding policies of each side.

For an allowed pair, each side names the policies whose allow entries admit some of the listed
ports, the deny rules that carve ports out (ref §2.5), and the rules that put the side into
default deny (ref §2.2).  For a denied pair of interest — one a rule names, yet nothing passes —
the explanation is the one ``cmesh policy trace`` gives: :func:`cmesh.datapath.trace` of a
representative flow (the first pods of each end, on a port one side allows), with the nearest
misses of the side that dropped it.  The explanation only reads what the engine decided.
"""

from __future__ import annotations

from dataclasses import dataclass

from cmesh.analysis.connectivity import Analyzer, Connection
from cmesh.analysis.ends import End, EndpointClass
from cmesh.analysis.portset import PortSet
from cmesh.datapath import Peer, PeerKind, Trace, trace
from cmesh.policy import Direction, PolicyRef, Protocol


@dataclass(frozen=True, slots=True)
class SideWhy:
    """One side of a pair: who decides, and with which policies."""

    direction: Direction
    cluster: str
    subject: str
    default_deny_by: tuple[PolicyRef, ...]
    allowed_by: tuple[PolicyRef, ...]
    denied_by: tuple[PolicyRef, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class PairWhy:
    sides: tuple[SideWhy, ...]
    trace: Trace | None = None

    @property
    def policies(self) -> tuple[PolicyRef, ...]:
        refs: list[PolicyRef] = []
        for s in self.sides:
            refs += [*s.denied_by, *s.allowed_by, *s.default_deny_by]
        return tuple(dict.fromkeys(refs))


def _side(
    an: Analyzer,
    direction: Direction,
    subject: EndpointClass,
    peer: int,
    label: str,
    ports: PortSet,
) -> SideWhy:
    engine = an.mesh.views[subject.cluster].engine
    s = engine.settings
    if s.enforcement == "never":
        return SideWhy(direction, subject.cluster, label, (), (), (), "policy enforcement is never")
    sp = engine.selector_policy(subject.identity)
    ms = engine.map_state(subject.identity, subject.named_ports)
    dd = sp.deny_by_default[direction]
    cands = [
        *ms.keys.get((direction, peer), ()),
        *ms.keys.get((direction, 0), ()),
    ]
    cands = [me for me in cands if not me.entry.audit]
    allowed, denied = [], []
    for me in cands:
        mine = PortSet.of(me.protocol, me.lo, me.hi)
        if me.entry.deny:
            denied.append(me.entry.origin)
        elif mine & ports:
            allowed.append(me.entry.origin)
    note = ""
    if direction is Direction.INGRESS and peer == 1 and s.allow_localhost in ("auto", "always"):
        note = "traffic from the local host is always allowed (allow-localhost)"
    elif s.audit_mode or subject.identity in engine.endpoint_audit:
        note = "audit mode: drops are only reported"
    elif not s.default_deny(sp, direction):
        note = f"no policy puts {direction.value} into default deny: everything not denied passes"
    elif not dd:
        note = "policy enforcement is always: default deny without a selecting rule"
    return SideWhy(
        direction,
        subject.cluster,
        label,
        tuple(dd),
        tuple(sorted(set(allowed))),
        tuple(sorted(set(denied))),
        note,
    )


def _peer(end: End) -> Peer | None:
    if end.pods:
        ep = end.pods[0]
        return Peer(PeerKind.POD, ep.ip, ep.cluster, endpoint=ep)
    return None


def explain_pair(an: Analyzer, conn: Connection, *, with_trace: bool = True) -> PairWhy:
    """The deciding policies of both sides; a trace for a denied pod-to-pod pair."""
    src, dst = conn.src, conn.dst
    x: EndpointClass | End = src.classes[0] if src.classes else src
    y: EndpointClass | End = dst.classes[0] if dst.classes else dst
    sides = []
    eg, ing = an.sides(x, y)
    if isinstance(x, EndpointClass):
        peer = y.seen_by(x.cluster) if isinstance(y, EndpointClass) else y.identity
        sides.append(_side(an, Direction.EGRESS, x, peer, src.label, conn.ports or eg.ports))
    if isinstance(y, EndpointClass):
        peer = x.seen_by(y.cluster) if isinstance(x, EndpointClass) else x.identity
        sides.append(_side(an, Direction.INGRESS, y, peer, dst.label, conn.ports or ing.ports))
    flow: Trace | None = None
    a, b = _peer(src), _peer(dst)
    if with_trace and not conn.ports and a is not None and b is not None:
        probe = (eg.ports | ing.ports).first() or (Protocol.TCP, 80)
        flow = trace(an.mesh, a, b, probe[0], probe[1], explain=True)
    return PairWhy(tuple(sides), flow)
