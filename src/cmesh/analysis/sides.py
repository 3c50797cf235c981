"""What one direction of one identity lets through, per peer identity, as port sets.

This is the connectivity list's reading of the engine's MapState (``pkg/policy/mapstate.go``):
for a subject identity and a direction, every key ``(direction, peer)`` holds the entries that
apply to that peer, and the wildcard key ``(direction, 0)`` those that apply to every peer
(ref §2.5).  :func:`lookup` in :mod:`cmesh.policy.lookup` probes the same keys for one port;
here the same candidates are folded over whole port ranges instead, so a pair of identities costs
two dictionary look-ups, never a probe per port:

==========================  ==============================================================
enforcement ``never``,      everything (ref §2.1, §2.12: a drop would only be AUDIT)
audit mode
ingress from ``host``       everything under ``allow-localhost=auto|always`` (ref §2.1)
default deny                (allow entries) minus (deny entries)   (ref §2.2, §2.5)
no default deny             everything minus (deny entries)        (ref §2.1)
==========================  ==============================================================

Entries of audited policies (the guide's per-policy audit annotation) are left out: what only
they would drop passes as AUDIT.  Where every allow that covers a port carries L7 rules, the
port goes through the proxy with the union of those rules (ref §2.6, step 3); an L7-less allow
on the same port lifts them.  ``tests/analysis/test_sides.py`` checks all of this against
``PolicyEngine.decide`` on sampled probes: decide is the ground truth.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from cmesh.analysis.portset import EMPTY, FULL, PROTOCOLS, PortSet
from cmesh.identity import ReservedIdentity
from cmesh.policy import Direction, PolicyEngine, Protocol

L7Region = tuple[PortSet, tuple[object, ...]]  # ports, the L7 rules (cmesh.policy.rule.L7)
NamedPorts = tuple[tuple[str, str, int], ...]  # an endpoint's (name, protocol, port)


@dataclass(frozen=True, slots=True)
class SideAllow:
    """What one side allows towards one peer: ports, and where L7 rules restrict them."""

    ports: PortSet
    l7: tuple[L7Region, ...] = ()


ALLOW_ALL = SideAllow(FULL)


@dataclass(slots=True)
class SideTable:
    """One (cluster, direction, subject identity): the answer for every peer identity."""

    default: SideAllow
    specific: dict[int, SideAllow] = field(default_factory=dict)

    def towards(self, peer: int) -> SideAllow:
        return self.specific.get(peer, self.default)


class SideTables:
    """Side tables per (cluster, direction, identity), computed on first use and interned, so
    equal answers are the same object (pair combinations are memoised by object id)."""

    def __init__(self, engines: dict[str, PolicyEngine]) -> None:
        self.engines = engines
        self._tables: dict[tuple[str, Direction, int, NamedPorts], SideTable] = {}
        self._memo: dict[tuple[bool, tuple[int, ...]], tuple[SideAllow, object]] = {}
        self._intern: dict[SideAllow, SideAllow] = {ALLOW_ALL: ALLOW_ALL}

    def table(
        self, cluster: str, direction: Direction, subject: int, named_ports: NamedPorts = ()
    ) -> SideTable:
        """``named_ports``: the endpoint's own (its MapState is per identity and named ports)."""
        key = (cluster, direction, subject, named_ports)
        t = self._tables.get(key)
        if t is None:
            engine = self.engines[cluster]
            t = self._tables[key] = self._build(engine, direction, subject, named_ports)
        return t

    def _build(
        self, engine: PolicyEngine, direction: Direction, subject: int, named_ports: NamedPorts
    ) -> SideTable:
        s = engine.settings
        if s.enforcement == "never" or s.audit_mode or subject in engine.endpoint_audit:
            return SideTable(ALLOW_ALL)
        sp = engine.selector_policy(subject)
        ms = engine.map_state(subject, named_ports)
        dd = s.default_deny(sp, direction)
        wild = [me for me in ms.keys.get((direction, 0), ()) if not me.entry.audit]
        table = SideTable(self._fold(wild, dd))
        for (d, peer), mes in ms.keys.items():
            if d is direction and peer != 0:
                table.specific[peer] = self._fold(
                    wild + [me for me in mes if not me.entry.audit], dd
                )
        if direction is Direction.INGRESS and s.allow_localhost in ("auto", "always"):
            table.specific[int(ReservedIdentity.HOST)] = ALLOW_ALL
        return table

    def _fold(self, entries: Sequence[object], dd: bool) -> SideAllow:
        key = (dd, tuple(sorted(id(e) for e in entries)))
        hit = self._memo.get(key)
        if hit is None:
            value = fold(entries, dd)
            value = self._intern.setdefault(value, value)
            hit = self._memo[key] = (value, tuple(entries))  # keep the entries alive: ids stay
        return hit[0]


def fold(entries: Sequence[object], default_deny: bool) -> SideAllow:
    """The candidates of one key (peer's and wildcard's MapEntry values) over every port."""
    allow: list[tuple[Protocol, int, int]] = []
    deny: list[tuple[Protocol, int, int]] = []
    free: list[tuple[Protocol, int, int]] = []  # allows without L7: no proxy on those ports
    l7s: list[tuple[Protocol, int, int, object]] = []
    for me in entries:
        item = (me.protocol, me.lo, me.hi)  # type: ignore[attr-defined]
        e = me.entry  # type: ignore[attr-defined]
        if e.deny:
            deny.append(item)
            continue
        allow.append(item)
        if e.l7 is None:
            free.append(item)
        else:
            l7s.append((*item, e.l7))
    denied = PortSet.build(deny)
    ports = (PortSet.build(allow) if default_deny else FULL) - denied
    if not l7s:
        return SideAllow(ports)
    return SideAllow(ports, _l7_regions(l7s, PortSet.build(free) | denied))


def _l7_regions(
    l7s: list[tuple[Protocol, int, int, object]], lifted: PortSet
) -> tuple[L7Region, ...]:
    """Split the L7 entries' ports into segments with one union of rules each (ref §2.6)."""
    out: dict[tuple[object, ...], PortSet] = {}
    for proto in PROTOCOLS:
        mine = [(lo, hi, l7) for p, lo, hi, l7 in l7s if p is proto or p is Protocol.ANY]
        if not mine:
            continue
        cuts = sorted({lo for lo, _, _ in mine} | {hi + 1 for _, hi, _ in mine})
        for lo, nxt in itertools.pairwise(cuts):
            rules = tuple(dict.fromkeys(l7 for a, b, l7 in mine if a <= lo and nxt - 1 <= b))
            if not rules:
                continue
            seg = PortSet.of(proto, lo, nxt - 1) - lifted
            if seg:
                out[rules] = out.get(rules, EMPTY) | seg
    return tuple((ports, rules) for rules, ports in sorted(out.items(), key=lambda kv: str(kv[1])))
