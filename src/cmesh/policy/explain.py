"""Why a flow was dropped by default deny: who turned it on, and the nearest misses.

This is the explanation Cilium cannot give.  For a drop with POLICY_DENIED in one direction of
an endpoint, it lists the rules that selected the endpoint (and so put that direction into
default deny, ref §2.2) and, for every allow element of those rules, what did not match the
flow — a label, the namespace, the cluster, the port or the protocol — sorted so the nearest
miss comes first.  It walks the rules, which is fine: it explains a verdict the MapState
already decided, it never decides one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cmesh.labels import POD_NAMESPACE_LABEL, POLICY_LABEL_CLUSTER, EndpointSelector, Labels
from cmesh.labels.selector import Operator, Requirement
from cmesh.policy.engine import PolicyEngine
from cmesh.policy.rule import CIDRSelector, FQDNSelector, PolicyRule, RuleElement, Selector
from cmesh.policy.types import Direction, PolicyRef, Protocol


@dataclass(frozen=True, slots=True)
class Mismatch:
    field: str  # "label" | "namespace" | "cluster" | "port" | "protocol" | "peer" | "rule"
    text: str


@dataclass(frozen=True, slots=True)
class Miss:
    policy: PolicyRef
    path: str
    line: int
    mismatches: tuple[Mismatch, ...]

    @property
    def distance(self) -> int:
        return len(self.mismatches)


def _req_text(r: Requirement) -> str:
    key = r.key if r.source == "any" else f"{r.source}:{r.key}"
    vals = ",".join(sorted(r.values))
    return {
        Operator.IN: f"{key}={vals}" if len(r.values) == 1 else f"{key} in ({vals})",
        Operator.NOT_IN: f"{key} notin ({vals})",
        Operator.EXISTS: f"{key} to exist",
        Operator.DOES_NOT_EXIST: f"no {key}",
    }[r.op]


def _have(labels: Labels, key: str) -> str:
    lb = labels.get(key)
    return f"{lb.value}" if lb else "none"


def selector_mismatches(sel: Selector, peer_labels: Labels) -> list[Mismatch]:
    """Why ``sel`` does not select a peer with ``peer_labels`` (the caller has checked that it
    does not: a CIDR or FQDN selector is judged by the selector cache, not by labels)."""
    if isinstance(sel, EndpointSelector):
        out = []
        for r in sel.requirements:
            if r.matches(peer_labels):
                continue
            if r.key == POD_NAMESPACE_LABEL:
                out.append(
                    Mismatch(
                        "namespace",
                        f"needs namespace {_req_text(r).split('=', 1)[-1]}, peer is in {_have(peer_labels, r.key)}",
                    )
                )
            elif r.key == POLICY_LABEL_CLUSTER:
                out.append(
                    Mismatch(
                        "cluster",
                        f"needs cluster {_req_text(r).split('=', 1)[-1]}, peer is in {_have(peer_labels, r.key)}",
                    )
                )
            else:
                have = peer_labels.lookup(r.key, r.source)
                out.append(
                    Mismatch(
                        "label",
                        f"needs {_req_text(r)}, peer has {have.key + '=' + have.value if have else 'no ' + r.key}",
                    )
                )
        return out
    if isinstance(sel, CIDRSelector):
        if peer_labels.lookup("world", "reserved") is None:
            return [
                Mismatch(
                    "peer", f"CIDR {sel} never matches an endpoint with an identity (ref §1.5)"
                )
            ]
        return [Mismatch("peer", f"peer is not in CIDR {sel}")]
    if isinstance(sel, FQDNSelector):
        return [
            Mismatch(
                "peer", f"peer's address was not learned for {sel} by the DNS proxy (ref §2.11)"
            )
        ]
    return [Mismatch("peer", "peer not selected")]


def _port_mismatch(
    engine: PolicyEngine,
    subject: int,
    e: RuleElement,
    protocol: Protocol,
    port: int,
    named_ports: Sequence[tuple[str, str, int]] | None,
) -> list[Mismatch]:
    if e.icmps is not None:
        if protocol not in (Protocol.ICMP, Protocol.ICMPV6):
            return [
                Mismatch(
                    "protocol",
                    f"allows only ICMP types {', '.join(str(i.type) for i in e.icmps)}, flow is {protocol.value}",
                )
            ]
        if not any(i.type == port for i in e.icmps):
            return [
                Mismatch(
                    "port",
                    f"allows ICMP types {', '.join(str(i.type) for i in e.icmps)}, flow is type {port}",
                )
            ]
        return []
    if e.port_rules is None:
        return []
    specs = [pp for pr in e.port_rules for pp in pr.ports]
    allowed = ", ".join(str(pp) for pp in specs)
    same_proto = [pp for pp in specs if pp.protocol is protocol]
    if not same_proto:
        return [Mismatch("protocol", f"allows {allowed}, flow is {port}/{protocol.value}")]
    for pp in same_proto:
        if pp.named:
            own: Iterable[tuple[str, str, int]]
            if e.direction is Direction.EGRESS:
                own = engine.cluster_named_ports()
            elif named_ports is not None:
                own = named_ports
            else:
                own = engine.named_ports(subject)
            if any(n == pp.named and pr == protocol.value and p == port for n, pr, p in own):
                return []
        elif pp.ports.contains(port):
            return []
    return [Mismatch("port", f"allows {allowed}, flow is {port}/{protocol.value}")]


def nearest_misses(
    engine: PolicyEngine,
    subject: int,
    direction: Direction,
    peer_id: int,
    peer_labels: Labels,
    protocol: Protocol,
    port: int,
    *,
    limit: int = 5,
    named_ports: Sequence[tuple[str, str, int]] | None = None,
) -> list[Miss]:
    """Every allow element of the rules selecting ``subject`` that did not admit the flow.

    ``named_ports`` are the subject endpoint's own (as for :meth:`PolicyEngine.decide`)."""
    misses: list[Miss] = []
    selections = engine.cache.get
    rules: list[PolicyRule] = sorted(engine.selected_rules(subject), key=lambda r: r.ref)
    for rule in rules:
        for e in rule.elements_for(direction):
            if e.deny:
                continue
            if e.allows_nothing:
                misses.append(
                    Miss(
                        rule.ref,
                        e.path,
                        e.line,
                        (
                            Mismatch(
                                "rule",
                                "an empty rule element {} allows nothing; it only turns on default deny (ref §2.3)",
                            ),
                        ),
                    )
                )
                continue
            peer: list[Mismatch] = []
            if e.peers is not None:
                if not e.peers:
                    peer = [Mismatch("peer", f"{e.peer_kind}: [] selects no peer (ref §1.3)")]
                else:
                    # A selector that selects the peer (as the verdict saw it) has no miss.
                    options = [
                        [] if peer_id in selections(s) else selector_mismatches(s, peer_labels)
                        for s in e.peers
                    ]
                    peer = min(options, key=len)
            ports = _port_mismatch(engine, subject, e, protocol, port, named_ports)
            found = tuple(peer + ports)
            if found:
                misses.append(Miss(rule.ref, e.path, e.line, found))
    misses.sort(key=lambda m: (m.distance, m.policy, m.path))
    return misses[:limit]
