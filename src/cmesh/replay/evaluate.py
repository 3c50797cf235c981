"""Replay: every distinct recorded flow key through the policy set, one batch per phase.

For each key the directions it attests to (:class:`~cmesh.replay.records.Side`) are decided by
the cluster that enforces them — egress by the source's cluster, ingress by the destination's,
each with the other end's identity as *that* cluster sees it (ref §2.4, §1.14; the same split
as :func:`cmesh.datapath.decide`).  A direction whose local end is not a pod of a cluster in
scope has no endpoint policy and passes.  Then L7: where the new verdict redirects to a proxy and
the flow recorded an HTTP request or a DNS query, the request is matched against the union of
the L7 rules as the enforcing cluster's proxy matches it (:func:`cmesh.l7.match_http` with
its ``headerMatches`` secrets, DNS patterns; ref §2.6-§2.8).

toFQDNs (ref §1.7, §2.11): an address is selected by name only once the DNS proxy has seen the
answer.  Phase one replays the recorded DNS queries; a name is learned in a cluster when one of
its pods' queries for it reaches a DNS rule that allows it.  Names the log only knows from
``destination_names`` or answers, with no query recorded, are learned as they were then.
Phase two replays everything with what was learned.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from cmesh.datapath import Mesh
from cmesh.l7 import HTTPRequest, match_http, name_or_pattern_matches
from cmesh.l7.http import SecretLookup
from cmesh.policy import Decision, Direction, Miss, nearest_misses
from cmesh.replay.ends import End, Resolver
from cmesh.replay.records import EndKey, FlowLog, L7Key, Observed, RecordKey
from cmesh.replay.tables import AUDIT, EGRESS, INGRESS, REDIRECT, SideTables


class Outcome(enum.Enum):
    PASS = "FORWARDED"
    AUDIT = "AUDIT"
    DROP = "DROPPED"


@dataclass(frozen=True, slots=True)
class SideResult:
    """One direction of one key: who decided, and the engine's decision.

    Shared between keys that only differ in what does not change it (most differ by port).
    """

    direction: int  # EGRESS | INGRESS
    cluster: str
    decision: Decision | None  # None: nothing enforces this direction (not a pod in scope)
    l7_denied: bool = False
    l7_unchecked: bool = False  # redirected to a proxy, but no request was recorded
    subject: int = 0  # the local identity whose policy decided (0: none)
    peer: int = 0  # the other end's identity as ``cluster`` sees it

    @property
    def drops(self) -> bool:
        return self.l7_denied or (self.decision is not None and self.decision.dropped)


def _outcome(sides: tuple[SideResult, ...]) -> Outcome:
    if any(s.drops for s in sides):
        return Outcome.DROP
    if any(s.decision is not None and s.decision.verdict.name == "AUDIT" for s in sides):
        return Outcome.AUDIT
    return Outcome.PASS


@dataclass(slots=True)
class KeyResult:
    key: RecordKey
    count: int
    src: End
    dst: End
    sides: tuple[SideResult, ...]
    outcome: Outcome = Outcome.PASS

    def __post_init__(self) -> None:
        self.outcome = _outcome(self.sides)

    @property
    def observed(self) -> Observed:
        return Observed(self.key[6])

    @property
    def l7(self) -> L7Key | None:
        return self.key[7]

    @property
    def deciding(self) -> SideResult | None:
        """The side that drops it (the first: egress before ingress), if any."""
        return next((s for s in self.sides if s.drops), None)

    @property
    def broken(self) -> bool:
        return self.key[6] != Observed.DROPPED and self.outcome is Outcome.DROP

    @property
    def opened(self) -> bool:
        return self.key[6] == Observed.DROPPED and self.outcome is not Outcome.DROP


@dataclass
class ReplayResult:
    results: list[KeyResult] = field(default_factory=list)
    learned: dict[str, set[str]] = field(default_factory=dict)  # cluster -> names
    out_of_scope: int = 0  # keys observed outside the clusters replayed
    synthesized: int = 0  # identities re-created for pods that are gone
    unknown_clusters: set[str] = field(default_factory=set)  # named by flows, not in the home
    #: for default-deny drops that break a flow: the nearest rule that did not admit it
    misses: dict[tuple[str, int, int, int, int, int], Miss] = field(default_factory=dict)
    rows: int = 0  # compiled policy-map rows
    queries: int = 0  # one-direction verdicts computed


Progress = Callable[[int], None]


def _l7_denied(d: Decision, l7: L7Key, secret: SecretLookup) -> bool | None:
    """Does the proxy refuse the recorded request?  ``None``: no rules of its kind apply.
    ``secret``: the enforcing cluster's Secrets, as its proxy reads them (ref §2.7)."""
    if d.l7 is None:
        return None
    kind, a, b, host = l7
    if kind == "http":
        rules = [r for x in d.l7 for r in x.http]
        if not rules:
            return None
        return not match_http(rules, HTTPRequest(a or "GET", b or "/", host), secret).allowed
    rules_dns = [r for x in d.l7 for r in x.dns]
    if not rules_dns:
        return None
    return not any(name_or_pattern_matches(r.match_name, r.match_pattern, a) for r in rules_dns)


def _secrets(mesh: Mesh) -> Callable[[str], SecretLookup]:
    """Per cluster, the Secret lookup its proxy uses (loaded when a request is first checked;
    a Simulator only lends it the mesh, nothing is simulated)."""
    from cmesh.datapath.proxy import secret_value
    from cmesh.datapath.sim import Simulator

    sim = Simulator(mesh, 0)
    return lambda cluster: partial(secret_value, sim, cluster)


@dataclass
class _Plan:
    """The one-direction queries of some keys, as arrays for :class:`SideTables`."""

    cluster: list[int] = field(default_factory=list)
    direction: list[int] = field(default_factory=list)
    subject: list[int] = field(default_factory=list)
    peer: list[int] = field(default_factory=list)
    proto: list[int] = field(default_factory=list)
    port: list[int] = field(default_factory=list)
    # per key: its ends and, per side, (direction, cluster, query index or -1)
    keys: list[tuple[RecordKey, End, End, list[tuple[int, str, int]]]] = field(default_factory=list)

    def run(self, tables: SideTables) -> np.ndarray:
        arrays = [
            np.asarray(v, dtype=np.int64)
            for v in (self.cluster, self.direction, self.subject, self.peer, self.proto, self.port)
        ]
        return tables.evaluate(*arrays)


def _plan(
    mesh: Mesh, resolver: Resolver, keys: Iterable[RecordKey], scope: set[str], tables: SideTables
) -> _Plan:
    plan = _Plan()
    skeletons: dict[tuple[object, ...], tuple[End, End, list[tuple[int, str, int, int, int]]]] = {}
    cl, di, su, pe, pr, po = (
        plan.cluster,
        plan.direction,
        plan.subject,
        plan.peer,
        plan.proto,
        plan.port,
    )
    for key in keys:
        _obs, src_k, dst_k, proto, port, side, _o, _l7 = key
        sk = (src_k, dst_k, side)
        skel = skeletons.get(sk)
        if skel is None:
            skel = skeletons[sk] = _skeleton(resolver, src_k, dst_k, side, scope, tables)
        src, dst, parts = skel
        sides: list[tuple[int, str, int]] = []
        for d, cluster, cidx, subj, peer in parts:
            if cidx < 0:
                sides.append((d, cluster, -1))
                continue
            cl.append(cidx)
            di.append(d)
            su.append(subj)
            pe.append(peer)
            pr.append(proto)
            po.append(port)
            sides.append((d, cluster, len(po) - 1))
        plan.keys.append((key, src, dst, sides))
    return plan


def _skeleton(
    resolver: Resolver,
    src_k: EndKey,
    dst_k: EndKey,
    side: int,
    scope: set[str],
    tables: SideTables,
) -> tuple[End, End, list[tuple[int, str, int, int, int]]]:
    """Both ends and, per attested direction, (direction, cluster, index, subject, peer)."""
    src, dst = resolver.end(src_k), resolver.end(dst_k)
    parts: list[tuple[int, str, int, int, int]] = []
    for d, local, other in ((EGRESS, src, dst), (INGRESS, dst, src)):
        if not side & d:
            continue
        cluster = local.cluster
        subj = resolver.subject(local, cluster) if cluster in scope else None
        if subj is None:
            parts.append((d, cluster, -1, 0, 0))
            continue
        ident, node = subj
        parts.append(
            (d, cluster, tables.index[cluster], ident, resolver.peer(cluster, node, other))
        )
    return src, dst, parts


def _results(plan: _Plan, tables: SideTables, counts: FlowLog) -> list[KeyResult]:
    idx = plan.run(tables).tolist()
    codes = tables.codes(np.asarray(idx, dtype=np.int64)).tolist() if idx else []
    out: list[KeyResult] = []
    decisions = tables.decisions
    shared: dict[tuple[object, ...], SideResult] = {}
    n = counts.counts
    secrets: Callable[[str], SecretLookup] | None = None
    for key, src, dst, sides in plan.keys:
        l7 = key[7]
        res: list[SideResult] = []
        for d, cluster, q in sides:
            if q < 0:
                sk: tuple[object, ...] = (d, cluster)
                got = shared.get(sk)
                if got is None:
                    got = shared[sk] = SideResult(d, cluster, None)
                res.append(got)
                continue
            di = idx[q]
            dec = decisions[di]
            denied = unchecked = False
            if codes[q] in (REDIRECT, AUDIT) and dec.l7 is not None:
                if l7 is None:
                    unchecked = True
                else:
                    secrets = secrets or _secrets(tables.mesh)
                    denied = bool(_l7_denied(dec, l7, secrets(cluster)))
            sk = (d, cluster, di, denied, unchecked, plan.subject[q], plan.peer[q])
            got = shared.get(sk)
            if got is None:
                got = shared[sk] = SideResult(*sk[:2], dec, *sk[3:])  # type: ignore[arg-type]
            res.append(got)
        out.append(KeyResult(key, n[key], src, dst, tuple(res)))
    return out


def replay(
    mesh: Mesh,
    log: FlowLog,
    *,
    clusters: Iterable[str] | None = None,
) -> ReplayResult:
    """Decide every key of ``log`` against ``mesh`` (an in-memory copy: it is extended with the
    identities of recorded pods that are gone and the DNS names learned).

    ``clusters``: only flows those clusters observed, and only the directions they enforce
    (``None``: every cluster of the mesh).
    """
    scope = set(mesh.views) if clusters is None else set(clusters) & set(mesh.views)
    result = ReplayResult()
    resolver = Resolver(mesh, log)
    keys = [k for k in log.counts if not k[0] or k[0] in scope or clusters is None]
    result.out_of_scope = len(log.counts) - len(keys)
    for k in keys:  # resolve every end first: it may add identities to the engines
        for end in (resolver.end(k[1]), resolver.end(k[2])):
            if end.cluster and end.cluster not in mesh.views:
                result.unknown_clusters.add(end.cluster)
    dns_keys = [k for k in keys if k[7] is not None and k[7][0] == "dns"]
    queried: dict[str, set[str]] = {}
    if dns_keys:
        tables = SideTables(mesh, sorted(scope))
        first = _results(_plan(mesh, resolver, dns_keys, scope, tables), tables, log)
        for r in first:
            name = (r.key[7][1] if r.key[7] else "").lower().rstrip(".")
            queried.setdefault(r.src.cluster, set()).add(name)
            if r.outcome is Outcome.DROP:
                continue
            eg = next((s for s in r.sides if s.direction == EGRESS), None)
            proxied = eg is not None and eg.decision is not None and eg.decision.l7 is not None
            if proxied and any(x.dns for x in eg.decision.l7 or ()):  # type: ignore[union-attr]
                result.learned.setdefault(r.src.cluster, set()).add(name)
    _learn(mesh, log, scope, queried, result)
    tables = SideTables(mesh, sorted(scope))
    plan = _plan(mesh, resolver, keys, scope, tables)
    result.results = _results(plan, tables, log)
    _explain(mesh, result)
    result.synthesized = resolver.synthesized
    result.rows = tables.rows_compiled
    result.queries = len(plan.port)
    return result


#: At most this many distinct default-deny drops are explained (each walks the rules).
EXPLAIN = 200


def _explain(mesh: Mesh, result: ReplayResult) -> None:
    """The nearest miss of each default-deny drop that breaks a flow (``policy trace``'s
    explanation, :func:`cmesh.policy.nearest_misses`), busiest first."""
    from cmesh.replay.tables import ENGINE_PROTOCOLS

    for r in sorted(result.results, key=lambda r: -r.count):
        if len(result.misses) >= EXPLAIN:
            break
        side = r.deciding if r.broken else None
        if side is None or side.l7_denied or side.decision is None or side.decision.denied_by:
            continue
        key = (side.cluster, side.direction, side.subject, side.peer, r.key[3], r.key[4])
        if key in result.misses:
            continue
        engine = mesh.views[side.cluster].engine
        info = engine.identity(side.peer)
        if info is None:
            continue
        direction = Direction.EGRESS if side.direction == EGRESS else Direction.INGRESS
        found = nearest_misses(
            engine,
            side.subject,
            direction,
            side.peer,
            info.labels,
            ENGINE_PROTOCOLS[r.key[3]],
            r.key[4],
            limit=1,
        )
        if found:
            result.misses[key] = found[0]


def _learn(
    mesh: Mesh,
    log: FlowLog,
    scope: set[str],
    queried: dict[str, set[str]],
    result: ReplayResult,
) -> None:
    """Teach each cluster's engine the names its DNS proxy would have seen (see module doc)."""
    for ip, names in sorted(log.names.items()):
        if mesh.pod_at(ip) is not None or mesh.node_at(ip) is not None:
            continue
        for cluster in sorted(scope):
            view = mesh.views[cluster]
            learned = result.learned.get(cluster, set())
            asked = queried.get(cluster, set())
            for name in sorted(names):
                bare = name.lower().rstrip(".")
                if bare in asked and bare not in learned:
                    continue  # queried, but no DNS rule let the proxy see the answer
                view.learn_fqdn(name, [ip])
