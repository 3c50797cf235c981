"""MapState: a SelectorPolicy with selectors replaced by identities (``pkg/policy/mapstate.go``).

Keys are ``(direction, peer identity)``; identity ``0`` is the wildcard, as in the BPF policy
map.  Each key holds the entries that apply to that peer, with their protocol and port range
(named ports resolved to numbers here: on ingress against the endpoint's own container ports,
on egress against every endpoint's, as Cilium's named-port map does).  A verdict is then a
probe of two keys — the peer's and the wildcard — never a walk over rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from cmesh.policy.resolve import PolicyEntry, SelectorPolicy
from cmesh.policy.rule import Selector
from cmesh.policy.types import Direction, PortRange, Protocol

NamedPorts = Callable[[str, Protocol], Iterable[int]]


@dataclass(frozen=True, slots=True)
class MapEntry:
    protocol: Protocol
    lo: int
    hi: int
    entry: PolicyEntry

    def covers(self, protocol: Protocol, port: int) -> bool:
        if self.protocol is not Protocol.ANY and self.protocol is not protocol:
            return False
        return self.lo <= port <= self.hi


class MapState:
    def __init__(self) -> None:
        self.keys: dict[tuple[Direction, int], list[MapEntry]] = defaultdict(list)

    def add(self, direction: Direction, ident: int, me: MapEntry) -> None:
        self.keys[(direction, ident)].append(me)

    def candidates(
        self, direction: Direction, peer: int, protocol: Protocol, port: int
    ) -> list[tuple[int, MapEntry]]:
        """Entries for ``peer`` and for the wildcard identity that cover protocol/port."""
        out = []
        for ident in (peer, 0):
            for me in self.keys.get((direction, ident), ()):
                if me.covers(protocol, port):
                    out.append((ident, me))
        return out

    def __len__(self) -> int:
        return sum(len(v) for v in self.keys.values())


def materialize(
    sp: SelectorPolicy,
    selections: Callable[[Selector], frozenset[int]],
    ingress_named: NamedPorts,
    egress_named: NamedPorts,
) -> MapState:
    ms = MapState()
    for e in sp.entries:
        ids = selections(e.selector)
        if not ids:
            continue
        if e.named:
            lookup = ingress_named if e.direction is Direction.INGRESS else egress_named
            ranges = [PortRange(p, p) for p in sorted(set(lookup(e.named, e.protocol)))]
        else:
            ranges = [e.ports]
        for rng in ranges:
            me = MapEntry(e.protocol, rng.lo, rng.hi, e if not e.named else replace(e, ports=rng))
            for ident in ids:
                ms.add(e.direction, ident, me)
    return ms
