"""Semantic diff: how connectivity changes between two descriptions of the clusters.

Both sides are listed (:func:`cmesh.analysis.connectivity.connections`, every cluster and the
pairs across them) and compared pair by pair: a connection is *added*, *removed*, or *changed*
(its ports or its L7 rules differ).  Each change is attributed to the policy changes that cause
it: the changed policies among the deciding policies of the pair on either side — allow rules
that admit it, deny rules that carve it, rules that put a side into default deny (ref §2.2,
§2.4, §2.5) — as :mod:`cmesh.analysis.explain` names them.  A change no changed policy decides
(a workload relabelled, a pod added, a setting) is grouped under "other changes".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cmesh.analysis.connectivity import Analyzer, Connection, connections, list_ends
from cmesh.analysis.ends import End
from cmesh.analysis.explain import explain_pair
from cmesh.analysis.portset import EMPTY
from cmesh.analysis.sources import LoadedMesh
from cmesh.policy import PolicyRef


@dataclass(frozen=True, slots=True, order=True)
class PolicyChange:
    """A policy object added, removed or changed in one cluster."""

    cluster: str
    kind: str
    namespace: str
    name: str
    change: str  # added | removed | changed

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.change} {self.kind} {where} in {self.cluster}"


@dataclass(frozen=True, slots=True)
class ConnectionChange:
    src: str
    dst: str
    change: str  # added | removed | changed
    old: Connection | None
    new: Connection | None


@dataclass
class Group:
    causes: tuple[PolicyChange, ...]
    changes: list[ConnectionChange] = field(default_factory=list)


@dataclass
class SemanticDiff:
    old: str
    new: str
    policies: list[PolicyChange]
    groups: list[Group]

    @property
    def changed(self) -> bool:
        return any(g.changes for g in self.groups)

    def counts(self) -> dict[str, int]:
        out = {"added": 0, "removed": 0, "changed": 0}
        for g in self.groups:
            for c in g.changes:
                out[c.change] += 1
        return out


def _semantic(obj: dict[str, Any]) -> Any:
    meta = obj.get("metadata") or {}
    return (
        obj.get("spec"),
        obj.get("specs"),
        meta.get("labels"),
        {k: v for k, v in (meta.get("annotations") or {}).items() if "cilium.io" in k},
    )


def policy_changes(old: LoadedMesh, new: LoadedMesh) -> list[PolicyChange]:
    a, b = old.policies(), new.policies()
    out = []
    for key in sorted(set(a) | set(b)):
        cluster, (kind, ns, name) = key
        if key not in a:
            out.append(PolicyChange(cluster, kind, ns, name, "added"))
        elif key not in b:
            out.append(PolicyChange(cluster, kind, ns, name, "removed"))
        elif _semantic(a[key]) != _semantic(b[key]):
            out.append(PolicyChange(cluster, kind, ns, name, "changed"))
    return out


def _listing(lm: LoadedMesh, an: Analyzer) -> dict[tuple[str, str], Connection]:
    return {(c.src.label, c.dst.label): c for c in connections(lm.mesh, analyzer=an)}


def _same(a: Connection, b: Connection) -> bool:
    return a.ports == b.ports and [str(n) for n in a.l7] == [str(n) for n in b.l7]


def _deciding(
    an: Analyzer, ends: dict[str, End], src: str, dst: str
) -> list[tuple[str, PolicyRef]]:
    s, d = ends.get(src), ends.get(dst)
    if s is None or d is None:
        return []
    c = an.pair(s, d)
    why = explain_pair(an, Connection(s, d, c.ports or EMPTY), with_trace=False)
    return [
        (side.cluster, r)
        for side in why.sides
        for r in (*side.allowed_by, *side.denied_by, *side.default_deny_by)
    ]


def semantic_diff(old: LoadedMesh, new: LoadedMesh) -> SemanticDiff:
    """Connections added, removed and changed from ``old`` to ``new``, grouped by cause."""
    pcs = policy_changes(old, new)
    by_ref = {(p.cluster, p.kind, p.namespace, p.name): p for p in pcs}
    an_old, an_new = Analyzer(old.mesh), Analyzer(new.mesh)
    a, b = _listing(old, an_old), _listing(new, an_new)
    ends_old = {e.label: e for e in list_ends(old.mesh)}
    ends_new = {e.label: e for e in list_ends(new.mesh)}
    groups: dict[tuple[PolicyChange, ...], Group] = {}
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        if x is not None and y is not None and _same(x, y):
            continue
        kind = "added" if x is None else "removed" if y is None else "changed"
        refs = _deciding(an_old, ends_old, *key) + _deciding(an_new, ends_new, *key)
        causes = tuple(
            sorted(
                {
                    by_ref[(cluster, r.kind, r.namespace, r.name)]
                    for cluster, r in refs
                    if (cluster, r.kind, r.namespace, r.name) in by_ref
                }
            )
        )
        groups.setdefault(causes, Group(causes)).changes.append(
            ConnectionChange(key[0], key[1], kind, x, y)
        )
    ordered = sorted(groups.values(), key=lambda g: (not g.causes, g.causes))
    return SemanticDiff(old.description, new.description, pcs, ordered)


def summary(d: SemanticDiff) -> str:
    n = d.counts()
    return (
        f"{n['added']} connection(s) added, {n['removed']} removed, {n['changed']} changed"
        f" by {len(d.policies)} policy change(s)"
    )
