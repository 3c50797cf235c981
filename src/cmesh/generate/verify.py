"""Check generated policies before anything is written: valid, sufficient, and how tight.

1. **Valid**: each policy is rendered to YAML and read back through ``load_text`` and
   ``validate_all`` — exactly what ``cmesh apply`` does (ref §1.2-§1.11).
2. **Sufficient**: the flows the policies were generated from are replayed
   (:func:`cmesh.replay.replay`) against the generated policies alone, *enforced* (their audit
   annotation set aside; the clusters' other policies set aside too, so that none of their
   allows hides a missing rule).  Every one of them must still pass; anything less is an error
   naming the flows, and nothing is written.
3. **Permissiveness**: per generated policy, the tuples (subject identity, direction, peer
   identity, protocol, port) its map entries allow (``MapState``, ref §2.5) against those
   observed.  HTTP and DNS rules are counted as rules and requests: a generalised path
   (``/orders/[0-9]+``) allows requests nobody made, which tuples cannot show.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from cmesh.datapath import Mesh
from cmesh.errors import InvalidPolicy
from cmesh.model import Resource, load_text
from cmesh.policy import Direction, Protocol, validate_all
from cmesh.replay import (
    EGRESS,
    ENGINE_PROTOCOLS,
    FlowLog,
    KeyResult,
    Outcome,
    RecordKey,
    forget_learned_names,
    import_proposed,
    replay,
)

PolicyDoc = dict[str, Any]
_L4 = (Protocol.TCP, Protocol.UDP, Protocol.SCTP)


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def to_yaml(doc: PolicyDoc) -> str:
    return yaml.dump(
        doc, Dumper=_DUMPER, sort_keys=False, default_flow_style=False, allow_unicode=True
    )


def load_generated(docs: Mapping[str, Sequence[PolicyDoc]]) -> dict[str, list[Resource]]:
    """Read the policies back as ``cmesh apply`` would; every finding is an error here."""
    out: dict[str, list[Resource]] = {}
    diags = []
    for cluster, items in docs.items():
        for doc in items:
            name = f"{cluster}/{doc['metadata']['name']}.yaml"
            resources, found = load_text(to_yaml(doc), name)
            diags += found + list(validate_all(resources))
            out.setdefault(cluster, []).extend(resources)
    InvalidPolicy.raise_if_errors(diags)
    if diags:  # warnings are errors for generated output: it must be clean
        raise InvalidPolicy(diags, "the generated policies are not clean under validation")
    return out


@dataclass
class Tightness:
    policy: str
    cluster: str
    subjects: int = 0
    allowed: int = 0
    observed: int = 0
    http_rules: int = 0
    dns_rules: int = 0

    @property
    def unobserved(self) -> int:
        return max(self.allowed - self.observed, 0)


@dataclass
class Verification:
    flows: int = 0
    connections: int = 0
    passed_flows: int = 0
    passed_connections: int = 0
    failures: list[KeyResult] = field(default_factory=list)
    tightness: list[Tightness] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        return 100.0 * self.passed_flows / self.flows if self.flows else 100.0

    @property
    def ok(self) -> bool:
        return not self.failures


def verify(
    mesh: Mesh,
    log: FlowLog,
    generated: Mapping[str, Sequence[Resource]],
    used: set[RecordKey],
    clusters: Sequence[str],
) -> Verification:
    """Replay the ``used`` keys of ``log`` against ``generated`` alone, enforced.

    The clusters' other policies are set aside in this in-memory ``mesh``: the generated set
    must be sufficient by itself (an existing allow — a visibility policy's L7 wildcard, say —
    would otherwise hide a missing rule).  ``cmesh replay --policies`` shows the combination.
    """
    for cluster in clusters:
        forget_learned_names(mesh.views[cluster])
        engine = mesh.views[cluster].engine
        for key in list(engine.repo.policies):
            engine.remove_policy(key)
    for cluster, resources in generated.items():
        view = mesh.views[cluster]
        import_proposed(view, resources)
        for res in resources:  # the generated policies go in audited; verify them enforced
            rules = view.engine.repo.policies.get(res.key, ())
            view.engine.set_policy(res.key, [replace(r, audit=False) for r in rules])
    sub = FlowLog(
        counts=type(log.counts)({k: log.counts[k] for k in used}),
        labels=log.labels,
        workloads=log.workloads,
        names=log.names,
    )
    result = replay(mesh, sub, clusters=clusters)
    v = Verification()
    for r in result.results:
        v.flows += r.count
        v.connections += 1
        if r.outcome is Outcome.DROP:
            v.failures.append(r)
        else:
            v.passed_flows += r.count
            v.passed_connections += 1
    v.tightness = _tightness(mesh, generated, result.results)
    return v


def _tightness(
    mesh: Mesh, generated: Mapping[str, Sequence[Resource]], results: Sequence[KeyResult]
) -> list[Tightness]:
    observed: dict[tuple[str, int], set[tuple[Direction, int, Protocol, int]]] = defaultdict(set)
    for r in results:
        port = r.key[4]
        proto = ENGINE_PROTOCOLS[r.key[3]]
        for s in r.sides:
            if s.decision is not None:
                d = Direction.EGRESS if s.direction == EGRESS else Direction.INGRESS
                observed[(s.cluster, s.subject)].add((d, s.peer, proto, port))
    out: list[Tightness] = []
    for cluster, resources in sorted(generated.items()):
        engine = mesh.views[cluster].engine
        for res in resources:
            t = Tightness(f"{res.namespace}/{res.name}", cluster)
            rules = engine.repo.policies.get(res.key, ())
            subjects: set[int] = set()
            for rule in rules:
                subjects |= engine.subjects(rule.subject)
                for e in rule.elements:
                    for pr in e.port_rules or ():
                        if pr.l7 is not None:
                            t.http_rules += len(pr.l7.http)
                            t.dns_rules += len(pr.l7.dns)
            t.subjects = len(subjects)
            refs = {r.ref for r in rules}
            for subj in subjects:
                spans: dict[tuple[Direction, int, Protocol], list[tuple[int, int]]] = defaultdict(
                    list
                )
                for (direction, peer), entries in engine.map_state(subj).keys.items():
                    for me in entries:
                        if me.entry.origin not in refs or me.entry.deny:
                            continue
                        protos = _L4 if me.protocol is Protocol.ANY else (me.protocol,)
                        for p in protos:
                            spans[(direction, peer, p)].append((me.lo, me.hi))
                allowed = set()
                for (direction, peer, p), ivs in spans.items():
                    t.allowed += _union_size(ivs)
                    allowed.add((direction, peer, p))
                t.observed += sum(
                    1
                    for (d, peer, p, port) in observed.get((cluster, subj), ())
                    if (d, peer, p) in allowed
                    and any(lo <= port <= hi for lo, hi in spans[(d, peer, p)])
                )
            out.append(t)
    return out


def _union_size(intervals: list[tuple[int, int]]) -> int:
    total, end = 0, -1
    for lo, hi in sorted(intervals):
        if hi <= end:
            continue
        total += hi - max(lo, end + 1) + 1
        end = hi
    return total
