"""``policy audit-report`` and ``policy promote``: from audited policies to enforced ones.

Generated policies go in under per-policy audit (the ``policy.cilium.io/audit-mode``
annotation, cmesh's model of the guide's workflow; real Cilium audits per endpoint or per node,
ref §2.12, §7.3).  While audited, whatever one of them would drop passes and is recorded as an
AUDIT policy verdict naming it in ``*_denied_by`` (ref §4.1).  The audit report reads those
flows from each cluster's Hubble ring: per audited policy, how many flows and connections
enforcing it would drop right now.  L7 rules audited by a policy show as L7 flows with verdict
AUDIT, which carry no policy name: they are attributed to the audited policies that select the
endpoint whose proxy logged them.

``promote`` removes the annotation of the named policies only when the report is clean for all
of them — or with ``force`` — and applies the change as ``cmesh apply`` would.  It is all or
nothing: a refusal promotes none and says why.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cmesh.cluster import ClusterConfig
from cmesh.errors import CmeshError, NotFound
from cmesh.hubble import Flow, FlowStore, build_request, format_time
from cmesh.model import from_stored
from cmesh.policy.importer import AUDIT_ANNOTATION
from cmesh.registry import ClusterRegistry

POLICY_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")
PolicyId = tuple[str, str, str, str]  # (cluster, kind, namespace, name)


class PromotionRefused(CmeshError):
    """An audited policy would still drop traffic; nothing was promoted."""

    code = "promotion-refused"


@dataclass
class AuditEntry:
    cluster: str
    kind: str
    namespace: str
    name: str
    audited: bool = True
    flows: int = 0
    connections: Counter[str] = field(default_factory=Counter)
    first: int = 0
    last: int = 0

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def clean(self) -> bool:
        return self.flows == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "audited": self.audited,
            "clean": self.clean,
            "audit_flows": self.flows,
            "connections": len(self.connections),
            "examples": [{"flow": c, "count": n} for c, n in self.connections.most_common(5)],
            "first": format_time(self.first, "RFC3339") if self.first else None,
            "last": format_time(self.last, "RFC3339") if self.last else None,
        }


def cluster_named(home: Any, name: str) -> ClusterConfig:
    """The home's cluster called ``name``: these functions take cluster names (what flows and
    policies name), and a cluster's context may be called otherwise."""
    clusters = home.clusters()
    for c in clusters:
        if c.name == name:
            return c  # type: ignore[no-any-return]
    raise NotFound(
        f'cluster "{name}" does not exist',
        hint="clusters: " + (", ".join(c.name for c in clusters) or "none"),
    )


def audited_policies(home: Any, cfg: ClusterConfig) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The policies of ``cfg`` with the audit annotation, by (kind, namespace, name)."""
    reg = ClusterRegistry(home.store, cfg)
    out = {}
    for key, obj in reg.objects().items():
        ann = (obj.get("metadata") or {}).get("annotations") or {}
        if key[0] in POLICY_KINDS and str(ann.get(AUDIT_ANNOTATION, "")).lower() == "true":
            out[key] = obj
    return out


def _end(ep: Any, ip: str) -> str:
    if ep is not None and ep.pod_name:
        return f"{ep.cluster_name or '?'}/{ep.namespace}/{ep.pod_name}"
    return ip or "?"


def _conn(f: Flow) -> str:
    ports = f.ports
    port = f"{ports[1]}" if ports else ""
    proto = type(f.l4).__name__ if f.l4 is not None else ""
    text = f"{_end(f.source, f.IP.source if f.IP else '')} -> "
    text += f"{_end(f.destination, f.IP.destination if f.IP else '')}:{port}/{proto}"
    if f.l7 is not None and f.l7.http is not None:
        text += f" {f.l7.http.method} {f.l7.http.url}"
    return text + f" [{f.traffic_direction.name.lower()}]"


def _l7_owners(
    engine: Any, f: Flow, audited: set[tuple[str, str, str]]
) -> list[tuple[str, str, str]]:
    ep = f.destination if f.traffic_direction.name == "INGRESS" else f.source
    if ep is None or not ep.identity:
        return []
    keys = {
        (r.ref.kind, r.ref.namespace, r.ref.name)
        for r in engine.selected_rules(ep.identity)
        if r.audit
    }
    return sorted(keys & audited)


def audit_report(
    home: Any, clusters: Sequence[str], *, since: str | None = None, now: int | None = None
) -> list[AuditEntry]:
    """Per audited policy of ``clusters``, the AUDIT flows that name it (see the module doc)."""
    now = time.time_ns() if now is None else now
    fs = FlowStore(home.store)
    entries: dict[PolicyId, AuditEntry] = {}
    mesh = None
    for cluster in clusters:
        audited = set(audited_policies(home, cluster_named(home, cluster)))
        for kind, ns, name in sorted(audited):
            entries[(cluster, kind, ns, name)] = AuditEntry(cluster, kind, ns, name)
        req = build_request(now=now, all_flows=since is None, since=since)
        for f in fs.get_flows([cluster], req):
            if f.verdict.name != "AUDIT":
                continue
            side = "egress" if f.traffic_direction.name == "EGRESS" else "ingress"
            named = getattr(f, f"{side}_denied_by")
            owners = [(p.kind or "CiliumNetworkPolicy", p.namespace, p.name) for p in named]
            if not owners and f.l7 is not None:
                if mesh is None:
                    from cmesh.datapath import load_mesh

                    mesh = load_mesh(home)
                owners = _l7_owners(mesh.views[cluster].engine, f, audited)
            for kind, ns, name in owners:
                e = entries.get((cluster, kind, ns, name))
                if e is None:
                    e = entries[(cluster, kind, ns, name)] = AuditEntry(
                        cluster, kind, ns, name, audited=(kind, ns, name) in audited
                    )
                e.flows += 1
                e.connections[_conn(f)] += 1
                e.first = min(e.first or f.time, f.time)
                e.last = max(e.last, f.time)
    return sorted(entries.values(), key=lambda e: (e.cluster, e.namespace, e.name))


def _find(
    objs: dict[tuple[str, str, str], dict[str, Any]], name: str
) -> tuple[str, str, str] | None:
    ns, _, bare = name.rpartition("/")
    found = [k for k in objs if k[2] == bare and (not ns or k[1] == ns)]
    return found[0] if len(found) == 1 else None


def promote(
    home: Any,
    cluster: str,
    names: Sequence[str],
    *,
    force: bool = False,
    since: str | None = None,
    now: int | None = None,
) -> list[AuditEntry]:
    """Remove the audit annotation of ``names`` in ``cluster`` (see the module doc)."""
    from cmesh.datapath.load import warm

    cfg = cluster_named(home, cluster)
    reg = ClusterRegistry(home.store, cfg)
    stored, _ = reg.stored()
    policies = {k: s for k, s in stored.items() if k[0] in POLICY_KINDS}
    report = {
        (e.kind, e.namespace, e.name): e
        for e in audit_report(home, [cfg.name], since=since, now=now)
    }
    chosen: list[tuple[str, str, str]] = []
    refusals: list[str] = []
    for name in names:
        key = _find({k: s.obj for k, s in policies.items()}, name)
        if key is None:
            raise NotFound(
                f'policy "{name}" not found in cluster {cfg.name}',
                hint="name it NAMESPACE/NAME; `cmesh policy audit-report` lists audited policies",
            )
        entry = report.get(key)
        if entry is None or not entry.audited:
            refusals.append(f"{name}: not in audit mode (no {AUDIT_ANNOTATION} annotation)")
            continue
        if not entry.clean and not force:
            worst = "; ".join(f"{c} ×{n}" for c, n in entry.connections.most_common(3))
            refusals.append(
                f"{name}: {entry.flows} AUDIT flows ({len(entry.connections)} connections) "
                f"would be dropped if it were enforced, e.g. {worst}"
            )
            continue
        chosen.append(key)
    if refusals:
        raise PromotionRefused(
            "not promoted: " + " | ".join(refusals),
            hint="fix the policy (cmesh replay shows the flows it drops) or pass --force",
        )
    resources = []
    for key in chosen:
        s = policies[key]
        obj = copy.deepcopy(s.obj)
        ann = obj["metadata"].get("annotations") or {}
        ann.pop(AUDIT_ANNOTATION, None)
        if ann:
            obj["metadata"]["annotations"] = ann
        else:
            obj["metadata"].pop("annotations", None)
        resources.append(from_stored(obj, s.source, s.lines))
    if resources:
        change = reg.apply(resources)
        if change.revision:
            warm(home, cfg)
    return [report[k] for k in chosen]
