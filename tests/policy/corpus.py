"""Load a netpol-analyzer corpus case into one cmesh cluster and answer its probes.

Used by the conformance test and by ``bench/`` (the corpus README: ../shared/corpora/).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmesh.cluster import ClusterConfig, plan_apply
from cmesh.cluster.inventory import workload_of
from cmesh.datapath import Mesh, Peer, PeerKind, decide
from cmesh.errors import Severity
from cmesh.model import load_text
from cmesh.policy import Protocol, build_view, validate_all

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "netpol-analyzer"
#: Scenarios whose features are all plain NetworkPolicy (no AdminNetworkPolicy, no ingress objects).
NP_FEATURES = {
    "networkpolicy",
    "ipblock",
    "named-port",
    "endport",
    "udp",
    "sctp",
    "service",
    "no-policy",
}

CFG = ClusterConfig(
    context="corpus",
    name="corpus",
    id=1,
    pod_cidr="100.64.0.0/10",
    service_cidr="100.127.0.0/16",
    node_cidr="172.31.255.0/24",
    nodes=2,
)


def cases() -> list[dict[str, Any]]:
    if not CORPUS.exists():
        return []
    return [json.loads(line) for line in (CORPUS / "cases.jsonl").open()]


def np_only(case: dict[str, Any]) -> bool:
    return set(case["features"]) <= NP_FEATURES


@dataclass
class Loaded:
    mesh: Mesh
    pods: dict[tuple[str, str, str], list[Peer]]  # (namespace, workload kind, name) -> pods


def load_case(case: dict[str, Any]) -> Loaded:
    resources = []
    for text, path in zip(case["manifests"], case["manifest_paths"], strict=True):
        # some scenarios name policies with '_', which the API server would refuse
        text = re.sub(
            r"(?m)^(\s*name: )([a-z0-9_-]+_[a-z0-9_-]*)$",
            lambda m: m.group(1) + m.group(2).replace("_", "-"),
            text,
        )
        res, diags = load_text(text, path, unknown="ignore")
        errors = [d for d in diags if d.severity is Severity.ERROR]
        assert not errors, [d.render() for d in errors]
        resources.extend(res)
    bad = [d for d in validate_all(resources) if d.severity is Severity.ERROR]
    assert not bad, [d.render() for d in bad]
    plan = plan_apply(CFG, {}, resources)
    assert plan.ok, [d.render() for d in plan.diagnostics]
    view = build_view(CFG, plan.objects)
    mesh = Mesh({CFG.name: view})
    pods: dict[tuple[str, str, str], list[Peer]] = {}
    for (_kind, ns, name), obj in plan.objects.items():
        if _kind != "Pod":
            continue
        ep = view.endpoints.get((ns, name))
        if ep is not None:
            peer = Peer(PeerKind.POD, ep.ip, CFG.name, endpoint=ep)
        else:
            # a host-network pod is its node to Cilium (ref §1.4): it has the host identity
            peer = mesh.resolve(CFG.name, (obj.get("status") or {}).get("podIP", ""))
        meta = obj.get("metadata") or {}
        owners = {("Pod", name), workload_of(meta)}
        # an owner reference without a kind is reported by netpol-analyzer as kind Pod
        owners |= {
            (r.get("kind") or "Pod", r.get("name", "")) for r in meta.get("ownerReferences") or []
        }
        for kind, owner in owners:
            pods.setdefault((ns, kind, owner), []).append(peer)
    return Loaded(mesh, pods)


def ends(loaded: Loaded, ref: dict[str, Any]) -> list[Peer]:
    if ref["kind"] == "ip-range":
        return [loaded.mesh.resolve(CFG.name, ref["ip"])]
    found = loaded.pods.get((ref["namespace"], ref["workload_kind"], ref["name"]), [])
    assert found, f"no pod for {ref}"
    return found


def probes(loaded: Loaded, case: dict[str, Any]) -> Iterator[tuple[dict[str, Any], bool]]:
    """Each query with cmesh's answer: allowed only if every pod of each end is allowed."""
    for q in case["queries"]:
        proto = Protocol.parse(q["protocol"])
        ok = all(
            decide(loaded.mesh, s, d, proto, q["port"], explain=False).verdict.name != "DROPPED"
            for s in ends(loaded, q["src_ref"])
            for d in ends(loaded, q["dst_ref"])
            if s.ip != d.ip
        )
        yield q, ok
