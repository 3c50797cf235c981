"""The connectivity list: every allowed connection between the ends of a mesh, streamed, sorted.

A connection from ``src`` to ``dst`` needs the source's egress (in the source's cluster, with the
destination's identity as that cluster sees it) and the destination's ingress (in its own
cluster, with the source's identity as it sees it) — ref §2.4 "both ends enforce", §9 step 5;
``cmesh.datapath.decide`` combines the same two sides for one flow.  A non-workload end (node,
world, CIDR, FQDN) has no policy of its own: only the pod's side decides.

Work is per identity, never per pod or per port: each side is a :class:`SideTable` read off the
MapState (:mod:`cmesh.analysis.sides`), a pair of sides is combined once per distinct pair of
answers (memoised by object id, answers are interned), so listing a mesh costs a few dictionary
look-ups per pair of ends plus printing.  A workload's line holds what *every* pod of it may do
(the intersection over its pods' classes); ``--pods`` lists pod by pod.  Self pairs (a workload
with itself) are left out, as netpol-analyzer does.

Ends are sorted by their label and pairs come out in (source, destination) order, so the
output is deterministic and can be streamed while it is computed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter

from cmesh.analysis.ends import End, EndpointClass, external_ends, workload_ends
from cmesh.analysis.fqdn import fqdn_ends
from cmesh.analysis.portset import EMPTY, PortSet
from cmesh.analysis.sides import ALLOW_ALL, SideAllow, SideTable, SideTables
from cmesh.datapath import Mesh
from cmesh.policy import Direction


@dataclass(frozen=True, slots=True)
class L7Note:
    """Ports of a connection on which a side's proxy enforces L7 rules."""

    direction: Direction
    ports: PortSet
    rules: tuple[object, ...]  # cmesh.policy.rule.L7

    @property
    def rules_text(self) -> str:
        """``HTTP GET /a | POST /b; DNS *``: each L7 part's kind and rules."""
        return "; ".join(
            f"{l7.kind.upper()} " + " | ".join(str(r) for r in l7.rules)  # type: ignore[attr-defined]
            for l7 in self.rules
        )

    def __str__(self) -> str:
        return f"{self.ports} {self.rules_text}"


@dataclass(frozen=True, slots=True)
class Combined:
    ports: PortSet
    l7: tuple[L7Note, ...] = ()


@dataclass(frozen=True, slots=True)
class Connection:
    """One listed pair: what ``src`` may open towards ``dst``.  ``ports`` is empty only for a
    denied pair of interest (listed with ``explain``)."""

    src: End
    dst: End
    ports: PortSet
    l7: tuple[L7Note, ...] = ()

    @property
    def allowed(self) -> bool:
        return bool(self.ports)


def _combine(eg: SideAllow, ing: SideAllow) -> Combined:
    ports = eg.ports & ing.ports
    notes = []
    for direction, side in ((Direction.EGRESS, eg), (Direction.INGRESS, ing)):
        for region, rules in side.l7:
            r = region & ports
            if r:
                notes.append(L7Note(direction, r, rules))
    return Combined(ports, tuple(notes))


class Analyzer:
    """Answers for pairs of ends of one mesh, from its engines."""

    def __init__(self, mesh: Mesh) -> None:
        self.mesh = mesh
        self.tables = SideTables({c: v.engine for c, v in mesh.views.items()})
        self._pairs: dict[tuple[int, int], Combined] = {}

    def sides(
        self, src: EndpointClass | End, dst: EndpointClass | End
    ) -> tuple[SideAllow, SideAllow]:
        """The egress answer of ``src`` and the ingress answer of ``dst`` for this pair."""
        eg = ing = ALLOW_ALL
        if isinstance(src, EndpointClass):
            peer = dst.seen_by(src.cluster) if isinstance(dst, EndpointClass) else dst.identity
            eg = self.tables.table(
                src.cluster, Direction.EGRESS, src.identity, src.named_ports
            ).towards(peer)
        if isinstance(dst, EndpointClass):
            peer = src.seen_by(dst.cluster) if isinstance(src, EndpointClass) else src.identity
            ing = self.tables.table(
                dst.cluster, Direction.INGRESS, dst.identity, dst.named_ports
            ).towards(peer)
        return eg, ing

    def combine(self, eg: SideAllow, ing: SideAllow) -> Combined:
        key = (id(eg), id(ing))
        hit = self._pairs.get(key)
        if hit is None:
            hit = self._pairs[key] = _combine(eg, ing)
        return hit

    def pair(self, src: End, dst: End) -> Combined:
        """What every pod of ``src`` may open towards every pod of ``dst``."""
        a: Sequence[EndpointClass | End] = src.classes or (src,)
        b: Sequence[EndpointClass | End] = dst.classes or (dst,)
        out: Combined | None = None
        for x in a:
            for y in b:
                c = self.combine(*self.sides(x, y))
                if out is None:
                    out = c
                elif out is not c:
                    ports = out.ports & c.ports
                    notes = tuple(
                        dict.fromkeys(
                            L7Note(n.direction, n.ports & ports, n.rules)
                            for n in (*out.l7, *c.l7)
                            if n.ports & ports
                        )
                    )
                    out = Combined(ports, notes)
        return out or Combined(EMPTY)

    def touches(self, src: End, dst: End) -> bool:
        """Does a rule name this pair specifically (a MapState key for the peer's identity)?"""
        for x in src.classes or (src,):
            for y in dst.classes or (dst,):
                if isinstance(x, EndpointClass):
                    peer = y.seen_by(x.cluster) if isinstance(y, EndpointClass) else y.identity
                    t = self.tables.table(x.cluster, Direction.EGRESS, x.identity, x.named_ports)
                    if peer in t.specific:
                        return True
                if isinstance(y, EndpointClass):
                    peer = x.seen_by(y.cluster) if isinstance(x, EndpointClass) else x.identity
                    t = self.tables.table(y.cluster, Direction.INGRESS, y.identity, y.named_ports)
                    if peer in t.specific and peer != 1:
                        return True
        return False


def list_ends(
    mesh: Mesh,
    clusters: Sequence[str] | None = None,
    *,
    pods: bool = False,
    externals: bool = True,
) -> list[End]:
    """The ends of the listed clusters (all by default), sorted by label."""
    names = sorted(clusters if clusters is not None else mesh.views)
    with_cluster = len(mesh.views) > 1 and (clusters is None or len(names) > 1)
    ends = workload_ends(mesh, names, pods=pods, with_cluster=with_cluster)
    if externals:
        fqdns = fqdn_ends(mesh)
        ends += external_ends(mesh, names, with_cluster=with_cluster, fqdn_names=fqdns)
    ends = [e for e in ends if e.classes or e.external]
    return sorted(ends, key=lambda e: e.label)


def connections(
    mesh: Mesh,
    clusters: Sequence[str] | None = None,
    *,
    pods: bool = False,
    focus: str = "",
    denied_of_interest: bool = False,
    analyzer: Analyzer | None = None,
) -> Iterator[Connection]:
    """Every allowed connection, sorted by (source, destination) label, one at a time.

    With ``denied_of_interest``, pairs that a rule names specifically but that have no allowed
    connection are yielded too (with empty ports): the half-configured pairs ``--explain`` is for.
    The inner loop is :meth:`Analyzer.pair` unrolled for the usual case (an end whose pods form
    one class): two dictionary look-ups give both sides, a third the memoised combination.
    """
    an = analyzer or Analyzer(mesh)
    ends = list_ends(mesh, clusters, pods=pods)
    ext = [e.external for e in ends]
    single = [len(e.classes) == 1 for e in ends]
    fast = [s or x for s, x in zip(single, ext, strict=True)]
    focused = [not focus or e.matches(focus) for e in ends]
    # the identity each cluster gives each end (an external: only in its own cluster)
    seen = {
        c: [(e.classes[0].seen_by(c) if e.classes else e.identity) for e in ends]
        for c in mesh.views
    }
    ing = [
        an.tables.table(
            e.cluster, Direction.INGRESS, e.classes[0].identity, e.classes[0].named_ports
        )
        if s
        else None
        for e, s in zip(ends, single, strict=True)
    ]
    rows = list(zip(range(len(ends)), ends, ext, fast, focused, ing, strict=True))
    # A destination whose ingress allows nothing by default ("closed") can only connect with the
    # sources its table admits by identity; other destinations are tried with every source.
    # Unless denied pairs are wanted, each source visits the open destinations plus the closed
    # ones that admit it, in the same (sorted) order: far fewer than all ends in a mesh where
    # most workloads are selected by some ingress policy.
    open_rows: list[tuple[int, End, bool, bool, bool, SideTable | None]] = []
    admitting: dict[str, dict[int, list[int]]] = {}  # cluster -> source identity -> closed dsts
    for row in rows:
        it = row[5]
        if it is None or it.default.ports or denied_of_interest:
            open_rows.append(row)
        else:
            by_id = admitting.setdefault(row[1].cluster, {})
            for ident, answer in it.specific.items():
                if answer.ports:
                    by_id.setdefault(ident, []).append(row[0])
    pairs = an._pairs
    for i, src in enumerate(ends):
        a_cl, a_ext, a_fast, a_focus = src.cluster, ext[i], fast[i], focused[i]
        eg_t = (
            an.tables.table(
                a_cl, Direction.EGRESS, src.classes[0].identity, src.classes[0].named_ports
            )
            if single[i]
            else None
        )
        spec, dflt = (eg_t.specific, eg_t.default) if eg_t is not None else ({}, ALLOW_ALL)
        seen_a = seen[a_cl]
        if not a_fast:
            visit = rows  # a source of several classes is decided by Analyzer.pair: try all
        else:
            closed = [rows[j] for c, by_id in admitting.items() for j in by_id.get(seen[c][i], ())]
            visit = sorted(open_rows + closed, key=itemgetter(0)) if closed else open_rows
        for j, dst, b_ext, b_fast, b_focus, it in visit:
            if i == j or (a_ext and b_ext):
                continue
            if (a_ext or b_ext) and a_cl != dst.cluster:
                continue  # a node, world or CIDR is always as the pod's own cluster sees it
            if not (a_focus or b_focus):
                continue
            if a_fast and b_fast:
                eg = spec.get(seen_a[j], dflt)
                if not eg.ports and not denied_of_interest:
                    continue
                ig = (
                    it.specific.get(seen[dst.cluster][i], it.default)
                    if it is not None
                    else ALLOW_ALL
                )
                c = pairs.get((id(eg), id(ig)))
                if c is None:
                    c = an.combine(eg, ig)
            else:
                c = an.pair(src, dst)
            if c.ports:
                yield Connection(src, dst, c.ports, c.l7)
            elif denied_of_interest and an.touches(src, dst):
                yield Connection(src, dst, EMPTY)
