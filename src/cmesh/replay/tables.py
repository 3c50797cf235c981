"""Batch verdicts: each policy map flattened into port segments, probed with numpy.

For one cluster's endpoint identity (the subject), one direction, one peer identity and one
protocol, the engine's answer is piecewise constant over ports: it changes only where a MapState
entry for that peer or for the wildcard identity starts or ends (``pkg/policy/mapstate.go``: a
lookup probes the peer's key and the wildcard's, ref §2.5).  So each such *row* is compiled once
into its segment starts, and every segment is labelled by the engine itself:
:meth:`PolicyEngine.decide` at the segment's first port — or, for rows with more than
:data:`DIRECT_ENTRIES` entries (where a probe per segment would rescan them all), the engine's
:func:`~cmesh.policy.lookup.decide_entries` given just the entries covering the segment, which
is what a probe finds.  There is no second evaluator: the arrays only remember the engine's answers
(``tests/replay/test_tables.py`` checks them against :meth:`PolicyEngine.decide` and
:func:`cmesh.datapath.decide`, for small and large maps).

Peers with no entry of their own share one row per subject and protocol (they see only the
wildcard entries), so rows grow with the distinct (subject, peer, protocol) triples of a log, not
with its ports.  A batch is then three numpy steps: ``np.unique`` over the encoded triples (the
few new ones are compiled in Python), a gather of their row numbers, and one ``searchsorted`` of
``row << 16 | port`` in the concatenation of every row's starts.

Encoding of a triple (63 bits): cluster (6) · direction (1) · subject (26) · peer (26) ·
protocol (4).  Identities are below 2**26 (cluster-scoped ids, CIDR ids from 2**24, synthetic ids
from 2**25).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from cmesh.datapath import Mesh
from cmesh.errors import InvalidArgument
from cmesh.identity import ReservedIdentity
from cmesh.policy import Decision, Direction, Protocol, Verdict
from cmesh.policy.lookup import decide_entries, early_decision
from cmesh.policy.mapstate import MapEntry

I64 = npt.NDArray[np.int64]

#: Record protocol numbers (:data:`cmesh.replay.records.PROTOCOLS`) as engine protocols.
ENGINE_PROTOCOLS = {
    1: Protocol.TCP,
    2: Protocol.UDP,
    3: Protocol.SCTP,
    4: Protocol.ICMP,
    5: Protocol.ICMPV6,
}
#: Direction codes (the values of :class:`cmesh.replay.records.Side`).
EGRESS, INGRESS = 1, 2
DIRECTIONS = {EGRESS: Direction.EGRESS, INGRESS: Direction.INGRESS}
#: Verdict codes of :attr:`SideTables.codes`.
PASS, REDIRECT, AUDIT, DROP = 0, 1, 2, 3
_CODES = {
    Verdict.FORWARDED: PASS,
    Verdict.REDIRECTED: REDIRECT,
    Verdict.AUDIT: AUDIT,
    Verdict.DROPPED: DROP,
}
ID_BITS = 26
#: Clusters one set of tables holds (6 bits of the code).
MAX_CLUSTERS = 63
#: Up to this many map entries per row, segments are labelled by PolicyEngine.decide itself.
DIRECT_ENTRIES = 64
_OTHER = (1 << ID_BITS) - 1  # the peer class "no entry of its own" (never a real identity)


def _segments(
    own: list[MapEntry], wild: list[MapEntry]
) -> list[tuple[int, list[MapEntry], list[MapEntry]]]:
    """Sweep the port axis: each segment start with the entries covering it, in map order.

    >>> from cmesh.policy.types import Protocol
    >>> e = lambda lo, hi: MapEntry(Protocol.TCP, lo, hi, None)  # type: ignore[arg-type]
    >>> [(s, len(a)) for s, a, _ in _segments([e(80, 80), e(70, 90)], [])]
    [(0, 0), (70, 1), (80, 2), (81, 1), (91, 0)]
    """
    events: dict[int, list[tuple[int, int]]] = {0: []}
    for group, entries in enumerate((own, wild)):
        for i, me in enumerate(entries):
            events.setdefault(me.lo, []).append((group, i))
            if me.hi < 65535:
                events.setdefault(me.hi + 1, [])
    ends: dict[int, list[tuple[int, int]]] = {}
    for group, entries in enumerate((own, wild)):
        for i, me in enumerate(entries):
            ends.setdefault(me.hi + 1, []).append((group, i))
    active: set[tuple[int, int]] = set()
    out = []
    for start in sorted(events):
        active.difference_update(ends.get(start, ()))
        active.update(events[start])
        picked = sorted(active)
        out.append(
            (
                start,
                [own[i] for g, i in picked if g == 0],
                [wild[i] for g, i in picked if g == 1],
            )
        )
    return out


def encode(
    cluster: I64, direction: I64, subject: I64, peer: I64, proto: I64
) -> npt.NDArray[np.int64]:
    """The 63-bit code of (cluster, direction, subject, peer, protocol) triples."""
    if len(subject) and (int(subject.max()) >= _OTHER or int(peer.max()) >= _OTHER):
        raise ValueError("identity out of range for the replay tables (>= 2**26)")
    code = (cluster << 1) | (direction - 1)
    code = (code << ID_BITS) | subject
    code = (code << ID_BITS) | peer
    return (code << 4) | proto


@dataclass
class SideTables:
    """Compiled one-direction verdicts of every cluster of ``mesh`` (built lazily)."""

    mesh: Mesh
    clusters: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    rows_compiled: int = 0
    _pairs: dict[int, int] = field(default_factory=dict)
    _rows: dict[tuple[int, int, int, int, int], int] = field(default_factory=dict)
    _starts: list[int] = field(default_factory=list)
    _seg: list[int] = field(default_factory=list)
    _starts_np: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    _seg_np: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    _codes_np: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    _dirty: bool = False

    def __post_init__(self) -> None:
        if not self.clusters:
            self.clusters = sorted(self.mesh.views)
        if len(self.clusters) > MAX_CLUSTERS:
            raise InvalidArgument(
                f"{len(self.clusters)} clusters to replay at once; the tables hold at most "
                f"{MAX_CLUSTERS}",
                hint="replay fewer clusters at a time (--context CLUSTER)",
            )
        self.index = {c: i for i, c in enumerate(self.clusters)}

    # -- compiling ------------------------------------------------------------------------
    def _row(self, cluster: int, d: int, subject: int, peer: int, proto: int) -> int:
        engine = self.mesh.views[self.clusters[cluster]].engine
        direction = DIRECTIONS[d]
        ms = engine.map_state(subject)
        own = (direction, peer) in ms.keys or (
            direction is Direction.INGRESS and peer == ReservedIdentity.HOST
        )
        cls = peer if own else _OTHER
        rk = (cluster, d, subject, cls, proto)
        row = self._rows.get(rk)
        if row is not None:
            return row
        protocol = ENGINE_PROTOCOLS[proto]
        own_entries = [
            me
            for me in ms.keys.get((direction, cls), ())
            if me.protocol is Protocol.ANY or me.protocol is protocol
        ]
        wild_entries = [
            me
            for me in ms.keys.get((direction, 0), ())
            if me.protocol is Protocol.ANY or me.protocol is protocol
        ]
        row = len(self._rows)
        self._rows[rk] = row
        segments = _segments(own_entries, wild_entries)
        if len(own_entries) + len(wild_entries) <= DIRECT_ENTRIES:
            # small maps (the usual case): label each segment through the engine's API
            labels = [engine.decide(direction, subject, cls, protocol, s) for s, _, _ in segments]
        else:
            # large maps (hundreds of port entries): a probe per segment would rescan them all;
            # decide each segment from the entries covering it instead — exactly what the
            # probe would find (lookup = early_decision, else covering + decide_entries)
            sp = engine.selector_policy(subject)
            audit = subject in engine.endpoint_audit
            settings = engine.settings
            early = early_decision(direction, cls, settings)
            labels = [
                early
                if early is not None
                else decide_entries(
                    direction, sp, own, wild, settings, l3=cls != 0, endpoint_audit=audit
                )
                for _, own, wild in segments
            ]
        for (start, _, _), d_ in zip(segments, labels, strict=True):
            self._starts.append((row << 16) | start)
            self._seg.append(len(self.decisions))
            self.decisions.append(d_)
        self.rows_compiled += 1
        self._dirty = True
        return row

    def _freeze(self) -> None:
        if self._dirty:
            self._starts_np = np.asarray(self._starts, dtype=np.int64)
            self._seg_np = np.asarray(self._seg, dtype=np.int64)
            self._codes_np = np.asarray([_CODES[d.verdict] for d in self.decisions], dtype=np.int64)
            self._dirty = False

    # -- probing ------------------------------------------------------------------------------
    def evaluate(
        self, cluster: I64, direction: I64, subject: I64, peer: I64, proto: I64, port: I64
    ) -> I64:
        """The index into :attr:`decisions` of each query (arrays of equal length)."""
        if not len(port):
            return np.zeros(0, np.int64)
        codes = encode(cluster, direction, subject, peer, proto)
        uniq, inverse = np.unique(codes, return_inverse=True)
        rows = np.empty(len(uniq), dtype=np.int64)
        pairs = self._pairs
        mask26 = _OTHER
        for i, code in enumerate(uniq.tolist()):
            row = pairs.get(code)
            if row is None:
                p = code & 15
                peer_ = (code >> 4) & mask26
                subj = (code >> (4 + ID_BITS)) & mask26
                d = ((code >> (4 + 2 * ID_BITS)) & 1) + 1
                c = code >> (5 + 2 * ID_BITS)
                row = pairs[code] = self._row(c, d, subj, peer_, p)
            rows[i] = row
        self._freeze()
        composite = (rows[inverse.reshape(-1)] << 16) | port
        seg = np.searchsorted(self._starts_np, composite, side="right") - 1
        return self._seg_np[seg]

    def codes(self, decision_index: I64) -> I64:
        """Verdict codes (:data:`PASS`, :data:`REDIRECT`, :data:`AUDIT`, :data:`DROP`)."""
        self._freeze()
        return self._codes_np[decision_index]

    def decide(
        self, cluster: str, direction: int, subject: int, peer: int, proto: int, port: int
    ) -> Decision:
        """One query through the tables (what :meth:`evaluate` does for a batch)."""
        arr = [
            np.asarray([v], dtype=np.int64)
            for v in (self.index[cluster], direction, subject, peer, proto, port)
        ]
        return self.decisions[int(self.evaluate(*arr)[0])]
