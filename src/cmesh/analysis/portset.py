"""PortSet: a set of (protocol, port) as sorted, merged intervals per protocol.

The connectivity list answers "which protocols and ports" for millions of pairs, so the answer is
an immutable value that unions, intersects and subtracts in time linear in its intervals and can
be used as a dict key (memoised pair combinations, interning).  ``ANY`` in a policy key covers
every concrete protocol (ref §1.8, §2.6: an L3-only rule is the port-0/ANY filter); the port of
ICMP is its type, as in the engine's keys.

>>> a = PortSet.of(Protocol.TCP, 80, 90) | PortSet.of(Protocol.UDP, 53, 53)
>>> str(a & PortSet.of(Protocol.TCP, 85, 100))
'TCP 85-90'
>>> str(FULL - PortSet.of(Protocol.ANY, 0, 65535))
'No Connections'
>>> str(PortSet.of(Protocol.TCP, 0, 65535) | PortSet.of(Protocol.UDP, 53, 54))
'TCP *; UDP 53-54'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cmesh.policy import Protocol

#: The concrete protocols a flow can have, in display order.
PROTOCOLS: tuple[Protocol, ...] = tuple(p for p in Protocol if p is not Protocol.ANY)
MAX_PORT = 65535
Span = tuple[int, int]
Spans = tuple[Span, ...]
_ALL: Spans = ((0, MAX_PORT),)


def _merge(spans: Iterable[Span]) -> Spans:
    out: list[list[int]] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1][1] = hi
        else:
            out.append([lo, hi])
    return tuple((a, b) for a, b in out)


def _intersect(a: Spans, b: Spans) -> Spans:
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _subtract(a: Spans, b: Spans) -> Spans:
    out: list[Span] = []
    j = 0
    for lo, hi in a:
        cur = lo
        while j < len(b) and b[j][1] < cur:
            j += 1
        k = j
        while k < len(b) and b[k][0] <= hi:
            if b[k][0] > cur:
                out.append((cur, b[k][0] - 1))
            cur = max(cur, b[k][1] + 1)
            k += 1
        if cur <= hi:
            out.append((cur, hi))
    return tuple(out)


def _text(spans: Spans) -> str:
    if spans == _ALL:
        return "*"
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in spans)


@dataclass(frozen=True, slots=True)
class PortSet:
    """Protocol → merged port intervals; protocols with no port are absent."""

    spans: tuple[tuple[Protocol, Spans], ...] = ()

    @classmethod
    def of(cls, protocol: Protocol, lo: int, hi: int) -> PortSet:
        protos = PROTOCOLS if protocol is Protocol.ANY else (protocol,)
        return cls(tuple((p, ((lo, hi),)) for p in protos))

    @classmethod
    def build(cls, items: Iterable[tuple[Protocol, int, int]]) -> PortSet:
        acc: dict[Protocol, list[Span]] = {}
        for proto, lo, hi in items:
            for p in PROTOCOLS if proto is Protocol.ANY else (proto,):
                acc.setdefault(p, []).append((lo, hi))
        return cls(tuple((p, _merge(acc[p])) for p in PROTOCOLS if p in acc))

    def _map(self) -> dict[Protocol, Spans]:
        return dict(self.spans)

    def __bool__(self) -> bool:
        return bool(self.spans)

    def __or__(self, other: PortSet) -> PortSet:
        a, b = self._map(), other._map()
        return PortSet(
            tuple((p, _merge(a.get(p, ()) + b.get(p, ()))) for p in PROTOCOLS if p in a or p in b)
        )

    def __and__(self, other: PortSet) -> PortSet:
        if self is other:
            return self
        b = other._map()
        out = []
        for p, s in self.spans:
            if p in b:
                x = _intersect(s, b[p])
                if x:
                    out.append((p, x))
        return PortSet(tuple(out))

    def __sub__(self, other: PortSet) -> PortSet:
        b = other._map()
        out = []
        for p, s in self.spans:
            x = _subtract(s, b[p]) if p in b else s
            if x:
                out.append((p, x))
        return PortSet(tuple(out))

    def contains(self, protocol: Protocol, port: int) -> bool:
        for p, spans in self.spans:
            if p is protocol:
                return any(lo <= port <= hi for lo, hi in spans)
        return False

    @property
    def full(self) -> bool:
        return self == FULL

    def ports(self, protocol: Protocol) -> Spans:
        return self._map().get(protocol, ())

    def first(self) -> tuple[Protocol, int] | None:
        """A representative flow: the first protocol's first port (1 rather than 0 when open)."""
        if not self.spans:
            return None
        p, spans = self.spans[0]
        lo, hi = spans[0]
        return p, (1 if lo == 0 and hi >= 1 else lo)

    def to_dict(self) -> dict[str, list[list[int]]]:
        return {p.value: [[lo, hi] for lo, hi in s] for p, s in self.spans}

    def __str__(self) -> str:
        if not self.spans:
            return "No Connections"
        if self.full:
            return "All Connections"
        return "; ".join(f"{p.value} {_text(s)}" for p, s in self.spans)


EMPTY = PortSet()
FULL = PortSet(tuple((p, _ALL) for p in PROTOCOLS))
