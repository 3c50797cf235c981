"""A tiny, obviously naive policy evaluator: the oracle of differential testing (never shipped).

It walks every element of every rule for every query, implementing the reference's recommended
model for a simulator (ref §2.6 "Recommended model", §9 steps 3-4) and nothing cleverer:

1. enforcement ``never`` allows everything; ingress from ``host`` is allowed under
   ``allow-localhost=auto|always`` (ref §2.1);
2. the rules whose subject selector matches the subject's labels are the *selecting* rules;
3. a deny element of a selecting rule that matches the peer and the port drops with POLICY_DENY;
4. else an allow element that matches allows (L7 is not judged: a proxied flow is allowed);
5. else the direction is default-deny when the mode is ``always`` or any selecting rule has
   default deny on for it (ref §2.2), and the flow drops with POLICY_DENIED; else it passes.

A peer matches an element with no L3 field always; an :class:`EndpointSelector` by the peer
identity's labels; a :class:`CIDRSelector` only a CIDR identity inside it (and outside its
excepts), or ``world`` itself for a ``/0`` (ref §1.5).  FQDN peers are not modelled (no match).
Named ports (ref §1.8): on ingress a name resolves against the *subject's own* container ports,
on egress against the container ports of *any* endpoint of the cluster — the caller passes both
sets as ``(name, protocol, port)`` triples.

It uses only the rule values and ``EndpointSelector.matches`` / ``CIDRSelector.contains_prefix``:
never the engine's SelectorCache, MapState, resolve or lookup (ARCHITECTURE.md, "One engine").
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from cmesh.identity import ReservedIdentity
from cmesh.labels import EndpointSelector, Labels
from cmesh.policy import CIDRSelector, Direction, DropReason, PolicyRule, Protocol, Settings
from cmesh.policy.rule import PortProto, RuleElement, Selector

NamedPorts = frozenset[tuple[str, str, int]]  # (name, protocol, port)


@dataclass(frozen=True)
class Peer:
    """The other end of a flow as the deciding cluster sees it."""

    id: int
    labels: Labels
    cidr: str = ""  # the prefix of a CIDR identity, "" otherwise


@dataclass(frozen=True)
class Answer:
    allowed: bool
    reason: DropReason | None = None


ALLOW = Answer(True)
DENY = Answer(False, DropReason.POLICY_DENY)
DENIED = Answer(False, DropReason.POLICY_DENIED)


def selector_matches(sel: Selector, peer: Peer) -> bool:
    if isinstance(sel, EndpointSelector):
        return sel.matches(peer.labels)
    if isinstance(sel, CIDRSelector):
        if peer.cidr:
            return sel.contains_prefix(peer.cidr)
        return peer.id == ReservedIdentity.WORLD and ipaddress.ip_network(sel.prefix).prefixlen == 0
    return False


def peer_matches(e: RuleElement, peer: Peer) -> bool:
    if e.peers is None:
        return True
    return any(selector_matches(s, peer) for s in e.peers)


def port_proto_matches(pp: PortProto, protocol: Protocol, port: int, named: NamedPorts) -> bool:
    if pp.protocol is not protocol:
        return False
    if pp.named:
        return (pp.named, protocol.value, port) in named
    return pp.ports.contains(port)


def port_matches(e: RuleElement, protocol: Protocol, port: int, named: NamedPorts) -> bool:
    if e.icmps is not None:
        for ic in e.icmps:
            proto = Protocol.ICMP if ic.family == "IPv4" else Protocol.ICMPV6
            if proto is protocol and ic.type == port:
                return True
        return False
    if e.port_rules is None:
        return True
    return any(
        port_proto_matches(pp, protocol, port, named) for pr in e.port_rules for pp in pr.ports
    )


def decide(
    rules: Iterable[PolicyRule],
    settings: Settings,
    direction: Direction,
    subject: Labels,
    peer: Peer,
    protocol: Protocol,
    port: int,
    *,
    own_ports: NamedPorts = frozenset(),
    all_ports: NamedPorts = frozenset(),
) -> Answer:
    """The verdict of one direction for the endpoint with labels ``subject``."""
    if settings.enforcement == "never":
        return ALLOW
    if (
        direction is Direction.INGRESS
        and peer.id == ReservedIdentity.HOST
        and settings.allow_localhost in ("auto", "always")
    ):
        return ALLOW
    selecting = [r for r in rules if r.subject.matches(subject)]
    named = own_ports if direction is Direction.INGRESS else all_ports
    elements = [
        e
        for r in selecting
        for e in r.elements
        if e.direction is direction and not e.allows_nothing
    ]
    for e in elements:
        if e.deny and peer_matches(e, peer) and port_matches(e, protocol, port, named):
            return DENY
    for e in elements:
        if not e.deny and peer_matches(e, peer) and port_matches(e, protocol, port, named):
            return ALLOW
    if settings.enforcement == "always" or any(r.default_deny(direction) for r in selecting):
        return DENIED
    return ALLOW


def world_prefix(rules: Iterable[PolicyRule], ip: str) -> str:
    """The longest CIDR (rule prefix or except) containing ``ip``: its ipcache identity's prefix.

    ``""`` means none does, so the address is plain ``world`` (ref §1.5).
    """
    addr = ipaddress.ip_address(ip)
    best: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    for r in rules:
        for e in r.elements:
            for s in e.peers or ():
                if isinstance(s, CIDRSelector):
                    for p in (s.prefix, *s.excepts):
                        net = ipaddress.ip_network(p)
                        if addr in net and (best is None or net.prefixlen > best.prefixlen):
                            best = net
    return str(best) if best is not None else ""
